-- pull: periods
SELECT DISTINCT
  CAST("t0"."year" AS DOUBLE) AS "_p"
FROM "panel" AS "t0"
WHERE
  CAST("t0"."year" AS DOUBLE) IS NOT NULL;

-- pull: period means
SELECT
  AVG("t3"."_y0") AS "mu0",
  AVG("t3"."_y1") AS "mu1",
  AVG("t3"."_y2") AS "mu2",
  AVG("t3"."_y3") AS "mu3"
FROM (
  SELECT
    *
  FROM (
    SELECT
      "t1"."_fx_unit",
      MIN("t1"."_fx_cohort") AS "_gmin",
      MAX("t1"."_fx_cohort") AS "_gmax",
      SUM(CAST("t1"."_fx_cohort" IS NULL AS BIGINT)) AS "_gnull",
      SUM(CAST("t1"."_fx_time" = CAST(2020.0 AS DOUBLE) AS BIGINT)) AS "_n0",
      MAX("t1"."_fx_y") FILTER(WHERE
        "t1"."_fx_time" = CAST(2020.0 AS DOUBLE)) AS "_y0",
      SUM(CAST("t1"."_fx_time" = CAST(2021.0 AS DOUBLE) AS BIGINT)) AS "_n1",
      MAX("t1"."_fx_y") FILTER(WHERE
        "t1"."_fx_time" = CAST(2021.0 AS DOUBLE)) AS "_y1",
      SUM(CAST("t1"."_fx_time" = CAST(2022.0 AS DOUBLE) AS BIGINT)) AS "_n2",
      MAX("t1"."_fx_y") FILTER(WHERE
        "t1"."_fx_time" = CAST(2022.0 AS DOUBLE)) AS "_y2",
      SUM(CAST("t1"."_fx_time" = CAST(2023.0 AS DOUBLE) AS BIGINT)) AS "_n3",
      MAX("t1"."_fx_y") FILTER(WHERE
        "t1"."_fx_time" = CAST(2023.0 AS DOUBLE)) AS "_y3"
    FROM (
      SELECT
        "t0"."unit" AS "_fx_unit",
        CAST("t0"."year" AS DOUBLE) AS "_fx_time",
        IF(IS_NAN("t0"."y"), NULL, "t0"."y") AS "_fx_y",
        COALESCE(CAST("t0"."first" AS DOUBLE), CAST(0.0 AS DOUBLE)) AS "_fx_cohort"
      FROM "panel" AS "t0"
    ) AS "t1"
    GROUP BY
      1
  ) AS "t2"
  WHERE
    "t2"."_n0" = 1
    AND "t2"."_y0" IS NOT NULL
    AND "t2"."_n1" = 1
    AND "t2"."_y1" IS NOT NULL
    AND "t2"."_n2" = 1
    AND "t2"."_y2" IS NOT NULL
    AND "t2"."_n3" = 1
    AND "t2"."_y3" IS NOT NULL
    AND "t2"."_gmin" = "t2"."_gmax"
    AND (
      (
        "t2"."_gmin" = CAST(0.0 AS DOUBLE)
      )
      OR (
        "t2"."_gmin" > CAST(2020.0 AS DOUBLE)
      )
    )
) AS "t3";

-- pull: cohort moments
SELECT
  *
FROM (
  SELECT
    "t3"."_gmin",
    COUNT(*) AS "_nc",
    SUM("t3"."_y0" - CAST(<num> AS DOUBLE)) AS "m0",
    SUM(
      (
        "t3"."_y0" - CAST(<num> AS DOUBLE)
      ) * (
        "t3"."_y0" - CAST(<num> AS DOUBLE)
      )
    ) AS "q0_0",
    SUM(
      (
        "t3"."_y0" - CAST(<num> AS DOUBLE)
      ) * (
        "t3"."_y1" - CAST(0.635 AS DOUBLE)
      )
    ) AS "q0_1",
    SUM(
      (
        "t3"."_y0" - CAST(<num> AS DOUBLE)
      ) * (
        "t3"."_y2" - CAST(<num> AS DOUBLE)
      )
    ) AS "q0_2",
    SUM(
      (
        "t3"."_y0" - CAST(<num> AS DOUBLE)
      ) * (
        "t3"."_y3" - CAST(<num> AS DOUBLE)
      )
    ) AS "q0_3",
    SUM("t3"."_y1" - CAST(0.635 AS DOUBLE)) AS "m1",
    SUM(
      (
        "t3"."_y1" - CAST(0.635 AS DOUBLE)
      ) * (
        "t3"."_y1" - CAST(0.635 AS DOUBLE)
      )
    ) AS "q1_1",
    SUM(
      (
        "t3"."_y1" - CAST(0.635 AS DOUBLE)
      ) * (
        "t3"."_y2" - CAST(<num> AS DOUBLE)
      )
    ) AS "q1_2",
    SUM(
      (
        "t3"."_y1" - CAST(0.635 AS DOUBLE)
      ) * (
        "t3"."_y3" - CAST(<num> AS DOUBLE)
      )
    ) AS "q1_3",
    SUM("t3"."_y2" - CAST(<num> AS DOUBLE)) AS "m2",
    SUM(
      (
        "t3"."_y2" - CAST(<num> AS DOUBLE)
      ) * (
        "t3"."_y2" - CAST(<num> AS DOUBLE)
      )
    ) AS "q2_2",
    SUM(
      (
        "t3"."_y2" - CAST(<num> AS DOUBLE)
      ) * (
        "t3"."_y3" - CAST(<num> AS DOUBLE)
      )
    ) AS "q2_3",
    SUM("t3"."_y3" - CAST(<num> AS DOUBLE)) AS "m3",
    SUM(
      (
        "t3"."_y3" - CAST(<num> AS DOUBLE)
      ) * (
        "t3"."_y3" - CAST(<num> AS DOUBLE)
      )
    ) AS "q3_3"
  FROM (
    SELECT
      *
    FROM (
      SELECT
        "t1"."_fx_unit",
        MIN("t1"."_fx_cohort") AS "_gmin",
        MAX("t1"."_fx_cohort") AS "_gmax",
        SUM(CAST("t1"."_fx_cohort" IS NULL AS BIGINT)) AS "_gnull",
        SUM(CAST("t1"."_fx_time" = CAST(2020.0 AS DOUBLE) AS BIGINT)) AS "_n0",
        MAX("t1"."_fx_y") FILTER(WHERE
          "t1"."_fx_time" = CAST(2020.0 AS DOUBLE)) AS "_y0",
        SUM(CAST("t1"."_fx_time" = CAST(2021.0 AS DOUBLE) AS BIGINT)) AS "_n1",
        MAX("t1"."_fx_y") FILTER(WHERE
          "t1"."_fx_time" = CAST(2021.0 AS DOUBLE)) AS "_y1",
        SUM(CAST("t1"."_fx_time" = CAST(2022.0 AS DOUBLE) AS BIGINT)) AS "_n2",
        MAX("t1"."_fx_y") FILTER(WHERE
          "t1"."_fx_time" = CAST(2022.0 AS DOUBLE)) AS "_y2",
        SUM(CAST("t1"."_fx_time" = CAST(2023.0 AS DOUBLE) AS BIGINT)) AS "_n3",
        MAX("t1"."_fx_y") FILTER(WHERE
          "t1"."_fx_time" = CAST(2023.0 AS DOUBLE)) AS "_y3"
      FROM (
        SELECT
          "t0"."unit" AS "_fx_unit",
          CAST("t0"."year" AS DOUBLE) AS "_fx_time",
          IF(IS_NAN("t0"."y"), NULL, "t0"."y") AS "_fx_y",
          COALESCE(CAST("t0"."first" AS DOUBLE), CAST(0.0 AS DOUBLE)) AS "_fx_cohort"
        FROM "panel" AS "t0"
      ) AS "t1"
      GROUP BY
        1
    ) AS "t2"
    WHERE
      "t2"."_n0" = 1
      AND "t2"."_y0" IS NOT NULL
      AND "t2"."_n1" = 1
      AND "t2"."_y1" IS NOT NULL
      AND "t2"."_n2" = 1
      AND "t2"."_y2" IS NOT NULL
      AND "t2"."_n3" = 1
      AND "t2"."_y3" IS NOT NULL
      AND "t2"."_gmin" = "t2"."_gmax"
      AND (
        (
          "t2"."_gmin" = CAST(0.0 AS DOUBLE)
        )
        OR (
          "t2"."_gmin" > CAST(2020.0 AS DOUBLE)
        )
      )
  ) AS "t3"
  GROUP BY
    1
) AS "t4"
ORDER BY
  "t4"."_gmin" ASC;
