-- The W3C traceparent of the request that submitted a message, to follow a submission across
-- systems. Part of the message's content: chained (when present) and immutable like the rest.
ALTER TABLE message ADD COLUMN traceparent text CHECK (traceparent ~ '^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$');
