DROP INDEX visits_team_seq;
