-- pull: checks
SELECT
  COUNT(*) AS "n_total",
  SUM(
    CAST(TRUE AND NOT (
      "t0"."voted" IS NULL
    ) AND NOT (
      "t0"."assigned" IS NULL
    ) AS BIGINT)
  ) AS "n_complete",
  MIN(CAST("t0"."voted" AS DOUBLE PRECISION)) FILTER(WHERE
    TRUE AND NOT (
      "t0"."voted" IS NULL
    ) AND NOT (
      "t0"."assigned" IS NULL
    )) AS "y_min",
  MAX(CAST("t0"."voted" AS DOUBLE PRECISION)) FILTER(WHERE
    TRUE AND NOT (
      "t0"."voted" IS NULL
    ) AND NOT (
      "t0"."assigned" IS NULL
    )) AS "y_max",
  MIN(CAST("t0"."assigned" AS DOUBLE PRECISION)) FILTER(WHERE
    TRUE AND NOT (
      "t0"."voted" IS NULL
    ) AND NOT (
      "t0"."assigned" IS NULL
    )) AS "z_min",
  MAX(CAST("t0"."assigned" AS DOUBLE PRECISION)) FILTER(WHERE
    TRUE AND NOT (
      "t0"."voted" IS NULL
    ) AND NOT (
      "t0"."assigned" IS NULL
    )) AS "z_max",
  SUM(
    CAST(NOT (
      CAST("t0"."assigned" AS DOUBLE PRECISION) IN (0.0, 1.0)
    ) AS BIGINT)
  ) FILTER(WHERE
    TRUE AND NOT (
      "t0"."voted" IS NULL
    ) AND NOT (
      "t0"."assigned" IS NULL
    )) AS "z_bad",
  SUM(CAST("t0"."voted" IS NULL AS BIGINT)) AS "miss0",
  SUM(CAST("t0"."assigned" IS NULL AS BIGINT)) AS "miss1"
FROM "voters" AS "t0";

-- pull: block x arm totals
SELECT
  *
FROM (
  SELECT
    "t1"."_fx_block",
    "t1"."_fx_z",
    COUNT(*) AS "n",
    SUM("t1"."_fx_y") AS "total",
    SUM("t1"."_fx_y" * "t1"."_fx_y") AS "total_sq"
  FROM (
    SELECT
      CAST("t0"."voted" AS DOUBLE PRECISION) AS "_fx_y",
      CAST("t0"."assigned" AS DOUBLE PRECISION) AS "_fx_z",
      0 AS "_fx_block"
    FROM "voters" AS "t0"
    WHERE
      TRUE AND NOT (
        "t0"."voted" IS NULL
      ) AND NOT (
        "t0"."assigned" IS NULL
      )
  ) AS "t1"
  GROUP BY
    1,
    2
) AS "t2"
ORDER BY
  "t2"."_fx_block" ASC,
  "t2"."_fx_z" ASC;
