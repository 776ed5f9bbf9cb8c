DROP TABLE inspection_days;
