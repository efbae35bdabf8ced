-- pull: units
SELECT
  COUNT(DISTINCT "t1"."_fx_unit") AS "n"
FROM (
  SELECT
    "t0"."unit" AS "_fx_unit",
    "t0"."year" AS "_fx_time",
    CASE WHEN "t0"."y" = CAST('NaN' AS DOUBLE PRECISION) THEN NULL ELSE "t0"."y" END AS "_fx_y",
    "t0"."first" AS "_fx_cohort"
  FROM "panel" AS "t0"
) AS "t1";

-- pull: periods
SELECT DISTINCT
  "t0"."year" AS "_p"
FROM "panel" AS "t0"
WHERE
  "t0"."year" IS NOT NULL;

-- pull: one row per unit
SELECT
  "t1"."_fx_unit",
  MIN("t1"."_fx_cohort") AS "_gmin",
  MAX("t1"."_fx_cohort") AS "_gmax",
  SUM(CAST("t1"."_fx_cohort" IS NULL AS BIGINT)) AS "_gnull",
  SUM(CAST("t1"."_fx_time" = 2020 AS BIGINT)) AS "_n0",
  MAX("t1"."_fx_y") FILTER(WHERE
    "t1"."_fx_time" = 2020) AS "_y0",
  SUM(CAST("t1"."_fx_time" = 2021 AS BIGINT)) AS "_n1",
  MAX("t1"."_fx_y") FILTER(WHERE
    "t1"."_fx_time" = 2021) AS "_y1",
  SUM(CAST("t1"."_fx_time" = 2022 AS BIGINT)) AS "_n2",
  MAX("t1"."_fx_y") FILTER(WHERE
    "t1"."_fx_time" = 2022) AS "_y2",
  SUM(CAST("t1"."_fx_time" = 2023 AS BIGINT)) AS "_n3",
  MAX("t1"."_fx_y") FILTER(WHERE
    "t1"."_fx_time" = 2023) AS "_y3"
FROM (
  SELECT
    "t0"."unit" AS "_fx_unit",
    "t0"."year" AS "_fx_time",
    CASE WHEN "t0"."y" = CAST('NaN' AS DOUBLE PRECISION) THEN NULL ELSE "t0"."y" END AS "_fx_y",
    "t0"."first" AS "_fx_cohort"
  FROM "panel" AS "t0"
) AS "t1"
GROUP BY
  1;
