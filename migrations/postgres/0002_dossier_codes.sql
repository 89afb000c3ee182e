-- Dossier code counters: the last sequence handed out per unit and local
-- (Asia/Ho_Chi_Minh) reception day, for codes `<unit e-ID>-<yyMMdd>-<NNNN>`.
--
-- A code is taken with one statement,
--   INSERT … ON CONFLICT (unit_id, day) DO UPDATE
--       SET last_sequence = dossier_code_counters.last_sequence + 1
--   RETURNING last_sequence,
-- so the row lock serialises only the receptions of one unit on one day.
-- A number once taken is never handed out again, even if the reception
-- that took it fails afterwards (a gap, never a duplicate).
CREATE TABLE dossier_code_counters (
    unit_id       text   NOT NULL CHECK (char_length(unit_id) BETWEEN 1 AND 35),
    day           date   NOT NULL,
    last_sequence bigint NOT NULL CHECK (last_sequence >= 1),
    PRIMARY KEY (unit_id, day)
);
