-- Overdue follow-ups and the follow-ups due in a reporting window are found by their date.
CREATE INDEX visits_follow_up ON visits (follow_up_on);
