-- Dossier code counters: the last sequence handed out per unit and local
-- (Asia/Ho_Chi_Minh) reception day, for codes `<unit e-ID>-<yyMMdd>-<NNNN>`.
-- Same table as on PostgreSQL; `day` is the ISO date `YYYY-MM-DD`.
--
-- A code is taken with one autocommit statement (INSERT … ON CONFLICT DO
-- UPDATE … RETURNING), which holds SQLite's write lock from start to end:
-- concurrent receptions queue on the busy timeout and never share a number.
-- A number once taken is never handed out again (a gap, never a duplicate).
CREATE TABLE dossier_code_counters (
    unit_id       TEXT    NOT NULL CHECK (length(unit_id) BETWEEN 1 AND 35),
    day           TEXT    NOT NULL CHECK (day IS date(day)),
    last_sequence INTEGER NOT NULL CHECK (last_sequence >= 1),
    PRIMARY KEY (unit_id, day)
) WITHOUT ROWID;
