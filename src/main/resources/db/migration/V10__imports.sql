-- Bulk imports (POST /v1/messages/import): a newline-delimited JSON file of messages, stored in two
-- steps so that the upload costs the client one COPY's time and nothing it sent can be lost.
--
-- 1. Receiving: the request streams the file's lines into import_line with COPY, in one
--    transaction that also inserts the import's row; at commit the client hears 202 with the id.
--    Nothing is parsed yet: a line that is not even text (invalid UTF-8, a NUL byte, over the line
--    limit) is kept as its problem instead of its text.
-- 2. Storing: the work engine (org.eligo.imports.ImportWork) takes the import's next chunk of lines
--    in one transaction: validates them, inserts the valid ones as messages (idempotent, like any
--    submission), writes the rejected ones to import_rejection, deletes the chunk's staged lines and
--    moves the import's counts. The import's row lock (FOR UPDATE SKIP LOCKED) makes one worker at a
--    time store a given import; each chunk commits whole or not at all, so a crash repeats nothing
--    and loses nothing. While the backlog of unprocessed messages is at its limit the import waits.

CREATE TABLE import (
    id                text COLLATE "C" PRIMARY KEY CHECK (id ~ '^imp_[0-9A-HJKMNP-TV-Z]{26}$'),
    -- Who sent it, and the sources the token held (NULL: any source, authentication off). A line for
    -- another source is a rejected line.
    submitted_by      text        NOT NULL,
    sources           text[],
    traceparent       text CHECK (traceparent ~ '^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$'),
    received_at       timestamptz NOT NULL DEFAULT clock_timestamp(),
    -- Non-blank lines received (the file's line numbers run past it when it has blank lines).
    lines             bigint      NOT NULL CHECK (lines >= 1),
    last_line_no      bigint      NOT NULL,
    status            text        NOT NULL DEFAULT 'STORING' CHECK (status IN ('STORING', 'DONE', 'FAILED')),
    -- Progress: lines are stored in line order, so every line up to this one is settled.
    stored_through    bigint      NOT NULL DEFAULT 0,
    new_lines         bigint      NOT NULL DEFAULT 0,
    duplicate_lines   bigint      NOT NULL DEFAULT 0,
    conflicting_lines bigint      NOT NULL DEFAULT 0,
    invalid_lines     bigint      NOT NULL DEFAULT 0,
    -- A chunk that failed as a whole (never a line's own fault: that is a rejected line) is retried
    -- after a backoff like any work; FAILED after eligo.queue.max-attempts.
    attempts          integer     NOT NULL DEFAULT 0,
    next_attempt_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
    last_error        text,
    finished_at       timestamptz
);
-- The imports still storing, oldest first (what the workers claim).
CREATE INDEX import_storing ON import (id) WHERE status = 'STORING';

-- The lines of imports still storing, as received; deleted chunk by chunk as they are stored.
CREATE TABLE import_line (
    import_id text COLLATE "C" NOT NULL,
    line_no   bigint NOT NULL,
    -- The line's text; NULL when it could not be kept as text (then problem says why).
    line      text,
    problem   text,
    PRIMARY KEY (import_id, line_no),
    CHECK ((line IS NULL) <> (problem IS NULL))
);

-- The report's rejected lines: invalid (not JSON, invalid fields, a source the token does not hold)
-- or conflicting (the key already names a message with other content). Kept with the import.
CREATE TABLE import_rejection (
    import_id text COLLATE "C" NOT NULL REFERENCES import (id),
    line_no   bigint NOT NULL,
    kind      text   NOT NULL CHECK (kind IN ('invalid', 'conflicting')),
    -- [{"pointer": "/data/hours", "detail": "must be ..."}, ...]: pointers into the line's JSON.
    errors    jsonb  NOT NULL,
    PRIMARY KEY (import_id, line_no)
);
