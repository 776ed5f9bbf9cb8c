DROP TABLE photos;
DROP TABLE visits;
DROP TABLE team_visits;
DROP TABLE templates;
DROP TABLE establishments;
DROP TABLE assignments;
DROP TABLE session;
DROP TABLE kv;
