-- Biểu 06 counters summed per month (keyed by the month's first day),
-- beside the daily ones, as on PostgreSQL (0008 there).
CREATE TABLE bieu06_unit_month (
    generation                INTEGER NOT NULL,
    unit_id                   TEXT   NOT NULL,
    month                     TEXT   NOT NULL,
    received_online           INTEGER NOT NULL DEFAULT 0,
    received_offline          INTEGER NOT NULL DEFAULT 0,
    resolved_early            INTEGER NOT NULL DEFAULT 0,
    resolved_on_time          INTEGER NOT NULL DEFAULT 0,
    resolved_late             INTEGER NOT NULL DEFAULT 0,
    withdrawn                 INTEGER NOT NULL DEFAULT 0,
    stopped                   INTEGER NOT NULL DEFAULT 0,
    refused                   INTEGER NOT NULL DEFAULT 0,
    overdue_delta             INTEGER NOT NULL DEFAULT 0,
    awaiting_supplement_delta INTEGER NOT NULL DEFAULT 0,
    awaiting_payment_delta    INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (generation, unit_id, month)
);

CREATE TABLE bieu06_procedure_month (
    generation                INTEGER NOT NULL,
    unit_id                   TEXT   NOT NULL,
    procedure_code            TEXT   NOT NULL,
    field                     TEXT   NOT NULL,
    month                     TEXT   NOT NULL,
    received_online           INTEGER NOT NULL DEFAULT 0,
    received_offline          INTEGER NOT NULL DEFAULT 0,
    resolved_early            INTEGER NOT NULL DEFAULT 0,
    resolved_on_time          INTEGER NOT NULL DEFAULT 0,
    resolved_late             INTEGER NOT NULL DEFAULT 0,
    withdrawn                 INTEGER NOT NULL DEFAULT 0,
    stopped                   INTEGER NOT NULL DEFAULT 0,
    refused                   INTEGER NOT NULL DEFAULT 0,
    overdue_delta             INTEGER NOT NULL DEFAULT 0,
    awaiting_supplement_delta INTEGER NOT NULL DEFAULT 0,
    awaiting_payment_delta    INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (generation, unit_id, procedure_code, field, month)
);

INSERT INTO bieu06_unit_month
SELECT generation, unit_id, date(day, 'start of month'),
       sum(received_online), sum(received_offline), sum(resolved_early),
       sum(resolved_on_time), sum(resolved_late), sum(withdrawn), sum(stopped),
       sum(refused), sum(overdue_delta), sum(awaiting_supplement_delta),
       sum(awaiting_payment_delta)
FROM bieu06_unit_day
GROUP BY generation, unit_id, date(day, 'start of month');

INSERT INTO bieu06_procedure_month
SELECT generation, unit_id, procedure_code, field, date(day, 'start of month'),
       sum(received_online), sum(received_offline), sum(resolved_early),
       sum(resolved_on_time), sum(resolved_late), sum(withdrawn), sum(stopped),
       sum(refused), sum(overdue_delta), sum(awaiting_supplement_delta),
       sum(awaiting_payment_delta)
FROM bieu06_procedure_day
GROUP BY generation, unit_id, procedure_code, field, date(day, 'start of month');
