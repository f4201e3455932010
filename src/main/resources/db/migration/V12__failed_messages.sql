-- The failed messages, newest first (GET /v1/messages?status=FAILED): what an operator reads to
-- find what the service gave up on. Like the backlog's (V2__messages.sql), a partial index holds only
-- them, so reading them costs what there is to read however many processed messages the table keeps.
CREATE INDEX message_failed ON message (id) WHERE status = 'FAILED';
