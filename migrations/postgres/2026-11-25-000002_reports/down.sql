DROP INDEX visits_follow_up;
