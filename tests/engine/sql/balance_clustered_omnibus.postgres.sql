-- pull: levels
SELECT DISTINCT
  "t0"."propensity_band" AS "_lv"
FROM "voters" AS "t0"
WHERE
  "t0"."propensity_band" IS NOT NULL;

-- pull: arm labels
SELECT DISTINCT
  "t0"."assigned" AS "_a"
FROM "voters" AS "t0"
WHERE
  "t0"."assigned" IS NOT NULL;

-- pull: moments by arm
SELECT
  "t1"."_fx_arm",
  COUNT(*) AS "_fx_n",
  COUNT("t1"."age") AS "n0",
  AVG("t1"."age") AS "m0",
  VAR_SAMP("t1"."age") AS "v0",
  COUNT("t1"."propensity_band=intermittent") AS "n1",
  AVG("t1"."propensity_band=intermittent") AS "m1",
  VAR_SAMP("t1"."propensity_band=intermittent") AS "v1",
  COUNT("t1"."propensity_band=never") AS "n2",
  AVG("t1"."propensity_band=never") AS "m2",
  VAR_SAMP("t1"."propensity_band=never") AS "v2",
  COUNT("t1"."propensity_band=regular") AS "n3",
  AVG("t1"."propensity_band=regular") AS "m3",
  VAR_SAMP("t1"."propensity_band=regular") AS "v3"
FROM (
  SELECT
    "t0"."voter_id",
    "t0"."household_id",
    "t0"."precinct_id",
    "t0"."city",
    "t0"."assigned",
    "t0"."attempted",
    "t0"."contacted",
    "t0"."voted",
    "t0"."registered",
    "t0"."registered_after",
    "t0"."voted_2016",
    "t0"."voted_2018",
    "t0"."voted_2020",
    CAST("t0"."age" AS DOUBLE PRECISION) AS "age",
    "t0"."female",
    "t0"."propensity_band",
    "t0"."weight",
    CASE
      WHEN CAST("t0"."assigned" AS DOUBLE PRECISION) = 1.0
      THEN 1
      ELSE CASE
        WHEN CAST("t0"."assigned" AS DOUBLE PRECISION) = 0.0
        THEN 0
        ELSE CAST(NULL AS BIGINT)
      END
    END AS "_fx_arm",
    CASE
      WHEN "t0"."propensity_band" IS NULL
      THEN CAST(NULL AS DOUBLE PRECISION)
      ELSE CASE WHEN "t0"."propensity_band" = 'intermittent' THEN 1.0 ELSE 0.0 END
    END AS "propensity_band=intermittent",
    CASE
      WHEN "t0"."propensity_band" IS NULL
      THEN CAST(NULL AS DOUBLE PRECISION)
      ELSE CASE WHEN "t0"."propensity_band" = 'never' THEN 1.0 ELSE 0.0 END
    END AS "propensity_band=never",
    CASE
      WHEN "t0"."propensity_band" IS NULL
      THEN CAST(NULL AS DOUBLE PRECISION)
      ELSE CASE WHEN "t0"."propensity_band" = 'regular' THEN 1.0 ELSE 0.0 END
    END AS "propensity_band=regular"
  FROM "voters" AS "t0"
  WHERE
    CASE
      WHEN CAST("t0"."assigned" AS DOUBLE PRECISION) = 1.0
      THEN 1
      ELSE CASE
        WHEN CAST("t0"."assigned" AS DOUBLE PRECISION) = 0.0
        THEN 0
        ELSE CAST(NULL AS BIGINT)
      END
    END IS NOT NULL
) AS "t1"
GROUP BY
  1;

-- pull: rows without an arm
SELECT
  COUNT(*) AS "n"
FROM (
  SELECT
    "t0"."voter_id",
    "t0"."household_id",
    "t0"."precinct_id",
    "t0"."city",
    "t0"."assigned",
    "t0"."attempted",
    "t0"."contacted",
    "t0"."voted",
    "t0"."registered",
    "t0"."registered_after",
    "t0"."voted_2016",
    "t0"."voted_2018",
    "t0"."voted_2020",
    CAST("t0"."age" AS DOUBLE PRECISION) AS "age",
    "t0"."female",
    "t0"."propensity_band",
    "t0"."weight",
    CASE
      WHEN CAST("t0"."assigned" AS DOUBLE PRECISION) = 1.0
      THEN 1
      ELSE CASE
        WHEN CAST("t0"."assigned" AS DOUBLE PRECISION) = 0.0
        THEN 0
        ELSE CAST(NULL AS BIGINT)
      END
    END AS "_fx_arm",
    CASE
      WHEN "t0"."propensity_band" IS NULL
      THEN CAST(NULL AS DOUBLE PRECISION)
      ELSE CASE WHEN "t0"."propensity_band" = 'intermittent' THEN 1.0 ELSE 0.0 END
    END AS "propensity_band=intermittent",
    CASE
      WHEN "t0"."propensity_band" IS NULL
      THEN CAST(NULL AS DOUBLE PRECISION)
      ELSE CASE WHEN "t0"."propensity_band" = 'never' THEN 1.0 ELSE 0.0 END
    END AS "propensity_band=never",
    CASE
      WHEN "t0"."propensity_band" IS NULL
      THEN CAST(NULL AS DOUBLE PRECISION)
      ELSE CASE WHEN "t0"."propensity_band" = 'regular' THEN 1.0 ELSE 0.0 END
    END AS "propensity_band=regular"
  FROM "voters" AS "t0"
  WHERE
    CASE
      WHEN CAST("t0"."assigned" AS DOUBLE PRECISION) = 1.0
      THEN 1
      ELSE CASE
        WHEN CAST("t0"."assigned" AS DOUBLE PRECISION) = 0.0
        THEN 0
        ELSE CAST(NULL AS BIGINT)
      END
    END IS NULL
) AS "t1";

-- pull: checks
SELECT
  COUNT(*) AS "n_total",
  SUM(
    CAST(TRUE
    AND NOT (
      (
        "t1"."__x__" IS NULL
      )
      OR (
        "t1"."__x__" = CAST('NaN' AS DOUBLE PRECISION)
      )
    )
    AND NOT (
      (
        "t1"."__z__" IS NULL
      )
      OR (
        "t1"."__z__" = CAST('NaN' AS DOUBLE PRECISION)
      )
    )
    AND NOT (
      "t1"."precinct_id" IS NULL
    )
    AND NOT (
      "t1"."household_id" IS NULL
    ) AS BIGINT)
  ) AS "n_complete",
  MIN("t1"."__x__") FILTER(WHERE
    TRUE
    AND NOT (
      (
        "t1"."__x__" IS NULL
      )
      OR (
        "t1"."__x__" = CAST('NaN' AS DOUBLE PRECISION)
      )
    )
    AND NOT (
      (
        "t1"."__z__" IS NULL
      )
      OR (
        "t1"."__z__" = CAST('NaN' AS DOUBLE PRECISION)
      )
    )
    AND NOT (
      "t1"."precinct_id" IS NULL
    )
    AND NOT (
      "t1"."household_id" IS NULL
    )) AS "y_min",
  MAX("t1"."__x__") FILTER(WHERE
    TRUE
    AND NOT (
      (
        "t1"."__x__" IS NULL
      )
      OR (
        "t1"."__x__" = CAST('NaN' AS DOUBLE PRECISION)
      )
    )
    AND NOT (
      (
        "t1"."__z__" IS NULL
      )
      OR (
        "t1"."__z__" = CAST('NaN' AS DOUBLE PRECISION)
      )
    )
    AND NOT (
      "t1"."precinct_id" IS NULL
    )
    AND NOT (
      "t1"."household_id" IS NULL
    )) AS "y_max",
  MIN("t1"."__z__") FILTER(WHERE
    TRUE
    AND NOT (
      (
        "t1"."__x__" IS NULL
      )
      OR (
        "t1"."__x__" = CAST('NaN' AS DOUBLE PRECISION)
      )
    )
    AND NOT (
      (
        "t1"."__z__" IS NULL
      )
      OR (
        "t1"."__z__" = CAST('NaN' AS DOUBLE PRECISION)
      )
    )
    AND NOT (
      "t1"."precinct_id" IS NULL
    )
    AND NOT (
      "t1"."household_id" IS NULL
    )) AS "z_min",
  MAX("t1"."__z__") FILTER(WHERE
    TRUE
    AND NOT (
      (
        "t1"."__x__" IS NULL
      )
      OR (
        "t1"."__x__" = CAST('NaN' AS DOUBLE PRECISION)
      )
    )
    AND NOT (
      (
        "t1"."__z__" IS NULL
      )
      OR (
        "t1"."__z__" = CAST('NaN' AS DOUBLE PRECISION)
      )
    )
    AND NOT (
      "t1"."precinct_id" IS NULL
    )
    AND NOT (
      "t1"."household_id" IS NULL
    )) AS "z_max",
  SUM(CAST(NOT (
    "t1"."__z__" IN (0.0, 1.0)
  ) AS BIGINT)) FILTER(WHERE
    TRUE
    AND NOT (
      (
        "t1"."__x__" IS NULL
      )
      OR (
        "t1"."__x__" = CAST('NaN' AS DOUBLE PRECISION)
      )
    )
    AND NOT (
      (
        "t1"."__z__" IS NULL
      )
      OR (
        "t1"."__z__" = CAST('NaN' AS DOUBLE PRECISION)
      )
    )
    AND NOT (
      "t1"."precinct_id" IS NULL
    )
    AND NOT (
      "t1"."household_id" IS NULL
    )) AS "z_bad",
  COUNT(DISTINCT "t1"."household_id") FILTER(WHERE
    TRUE
    AND NOT (
      (
        "t1"."__x__" IS NULL
      )
      OR (
        "t1"."__x__" = CAST('NaN' AS DOUBLE PRECISION)
      )
    )
    AND NOT (
      (
        "t1"."__z__" IS NULL
      )
      OR (
        "t1"."__z__" = CAST('NaN' AS DOUBLE PRECISION)
      )
    )
    AND NOT (
      "t1"."precinct_id" IS NULL
    )
    AND NOT (
      "t1"."household_id" IS NULL
    )) AS "n_clusters",
  SUM(
    CAST((
      "t1"."__x__" IS NULL
    )
    OR (
      "t1"."__x__" = CAST('NaN' AS DOUBLE PRECISION)
    ) AS BIGINT)
  ) AS "miss0",
  SUM(
    CAST((
      "t1"."__z__" IS NULL
    )
    OR (
      "t1"."__z__" = CAST('NaN' AS DOUBLE PRECISION)
    ) AS BIGINT)
  ) AS "miss1",
  SUM(CAST("t1"."precinct_id" IS NULL AS BIGINT)) AS "miss2",
  SUM(CAST("t1"."household_id" IS NULL AS BIGINT)) AS "miss3"
FROM (
  SELECT
    CAST("t0"."age" AS DOUBLE PRECISION) AS "__x__",
    CASE
      WHEN CASE
        WHEN CAST("t0"."assigned" AS DOUBLE PRECISION) = 1.0
        THEN 1
        ELSE CASE
          WHEN CAST("t0"."assigned" AS DOUBLE PRECISION) = 0.0
          THEN 0
          ELSE CAST(NULL AS BIGINT)
        END
      END = 1
      THEN 1.0
      ELSE 0.0
    END AS "__z__",
    "t0"."precinct_id",
    "t0"."household_id"
  FROM "voters" AS "t0"
  WHERE
    CASE
      WHEN CAST("t0"."assigned" AS DOUBLE PRECISION) = 1.0
      THEN 1
      ELSE CASE
        WHEN CAST("t0"."assigned" AS DOUBLE PRECISION) = 0.0
        THEN 0
        ELSE CAST(NULL AS BIGINT)
      END
    END IN (1, 0)
) AS "t1";

-- pull: cluster totals
SELECT
  *
FROM (
  SELECT
    "t2"."_fx_cluster",
    COUNT(*) AS "n",
    SUM("t2"."_fx_y") AS "total",
    SUM("t2"."_fx_y" * "t2"."_fx_y") AS "total_sq",
    MIN("t2"."_fx_z") AS "z_min",
    MAX("t2"."_fx_z") AS "z_max",
    MIN("t2"."_fx_block") AS "b_min",
    MAX("t2"."_fx_block") AS "b_max"
  FROM (
    SELECT
      "t1"."__x__" AS "_fx_y",
      "t1"."__z__" AS "_fx_z",
      "t1"."precinct_id" AS "_fx_block",
      "t1"."household_id" AS "_fx_cluster"
    FROM (
      SELECT
        CAST("t0"."age" AS DOUBLE PRECISION) AS "__x__",
        CASE
          WHEN CASE
            WHEN CAST("t0"."assigned" AS DOUBLE PRECISION) = 1.0
            THEN 1
            ELSE CASE
              WHEN CAST("t0"."assigned" AS DOUBLE PRECISION) = 0.0
              THEN 0
              ELSE CAST(NULL AS BIGINT)
            END
          END = 1
          THEN 1.0
          ELSE 0.0
        END AS "__z__",
        "t0"."precinct_id",
        "t0"."household_id"
      FROM "voters" AS "t0"
      WHERE
        CASE
          WHEN CAST("t0"."assigned" AS DOUBLE PRECISION) = 1.0
          THEN 1
          ELSE CASE
            WHEN CAST("t0"."assigned" AS DOUBLE PRECISION) = 0.0
            THEN 0
            ELSE CAST(NULL AS BIGINT)
          END
        END IN (1, 0)
    ) AS "t1"
    WHERE
      TRUE
      AND NOT (
        (
          "t1"."__x__" IS NULL
        )
        OR (
          "t1"."__x__" = CAST('NaN' AS DOUBLE PRECISION)
        )
      )
      AND NOT (
        (
          "t1"."__z__" IS NULL
        )
        OR (
          "t1"."__z__" = CAST('NaN' AS DOUBLE PRECISION)
        )
      )
      AND NOT (
        "t1"."precinct_id" IS NULL
      )
      AND NOT (
        "t1"."household_id" IS NULL
      )
  ) AS "t2"
  GROUP BY
    1
) AS "t3"
ORDER BY
  "t3"."_fx_cluster" ASC;

-- pull: checks
SELECT
  COUNT(*) AS "n_total",
  SUM(
    CAST(TRUE
    AND NOT (
      (
        "t1"."__x__" IS NULL
      )
      OR (
        "t1"."__x__" = CAST('NaN' AS DOUBLE PRECISION)
      )
    )
    AND NOT (
      (
        "t1"."__z__" IS NULL
      )
      OR (
        "t1"."__z__" = CAST('NaN' AS DOUBLE PRECISION)
      )
    )
    AND NOT (
      "t1"."precinct_id" IS NULL
    )
    AND NOT (
      "t1"."household_id" IS NULL
    ) AS BIGINT)
  ) AS "n_complete",
  MIN("t1"."__x__") FILTER(WHERE
    TRUE
    AND NOT (
      (
        "t1"."__x__" IS NULL
      )
      OR (
        "t1"."__x__" = CAST('NaN' AS DOUBLE PRECISION)
      )
    )
    AND NOT (
      (
        "t1"."__z__" IS NULL
      )
      OR (
        "t1"."__z__" = CAST('NaN' AS DOUBLE PRECISION)
      )
    )
    AND NOT (
      "t1"."precinct_id" IS NULL
    )
    AND NOT (
      "t1"."household_id" IS NULL
    )) AS "y_min",
  MAX("t1"."__x__") FILTER(WHERE
    TRUE
    AND NOT (
      (
        "t1"."__x__" IS NULL
      )
      OR (
        "t1"."__x__" = CAST('NaN' AS DOUBLE PRECISION)
      )
    )
    AND NOT (
      (
        "t1"."__z__" IS NULL
      )
      OR (
        "t1"."__z__" = CAST('NaN' AS DOUBLE PRECISION)
      )
    )
    AND NOT (
      "t1"."precinct_id" IS NULL
    )
    AND NOT (
      "t1"."household_id" IS NULL
    )) AS "y_max",
  MIN("t1"."__z__") FILTER(WHERE
    TRUE
    AND NOT (
      (
        "t1"."__x__" IS NULL
      )
      OR (
        "t1"."__x__" = CAST('NaN' AS DOUBLE PRECISION)
      )
    )
    AND NOT (
      (
        "t1"."__z__" IS NULL
      )
      OR (
        "t1"."__z__" = CAST('NaN' AS DOUBLE PRECISION)
      )
    )
    AND NOT (
      "t1"."precinct_id" IS NULL
    )
    AND NOT (
      "t1"."household_id" IS NULL
    )) AS "z_min",
  MAX("t1"."__z__") FILTER(WHERE
    TRUE
    AND NOT (
      (
        "t1"."__x__" IS NULL
      )
      OR (
        "t1"."__x__" = CAST('NaN' AS DOUBLE PRECISION)
      )
    )
    AND NOT (
      (
        "t1"."__z__" IS NULL
      )
      OR (
        "t1"."__z__" = CAST('NaN' AS DOUBLE PRECISION)
      )
    )
    AND NOT (
      "t1"."precinct_id" IS NULL
    )
    AND NOT (
      "t1"."household_id" IS NULL
    )) AS "z_max",
  SUM(CAST(NOT (
    "t1"."__z__" IN (0.0, 1.0)
  ) AS BIGINT)) FILTER(WHERE
    TRUE
    AND NOT (
      (
        "t1"."__x__" IS NULL
      )
      OR (
        "t1"."__x__" = CAST('NaN' AS DOUBLE PRECISION)
      )
    )
    AND NOT (
      (
        "t1"."__z__" IS NULL
      )
      OR (
        "t1"."__z__" = CAST('NaN' AS DOUBLE PRECISION)
      )
    )
    AND NOT (
      "t1"."precinct_id" IS NULL
    )
    AND NOT (
      "t1"."household_id" IS NULL
    )) AS "z_bad",
  COUNT(DISTINCT "t1"."household_id") FILTER(WHERE
    TRUE
    AND NOT (
      (
        "t1"."__x__" IS NULL
      )
      OR (
        "t1"."__x__" = CAST('NaN' AS DOUBLE PRECISION)
      )
    )
    AND NOT (
      (
        "t1"."__z__" IS NULL
      )
      OR (
        "t1"."__z__" = CAST('NaN' AS DOUBLE PRECISION)
      )
    )
    AND NOT (
      "t1"."precinct_id" IS NULL
    )
    AND NOT (
      "t1"."household_id" IS NULL
    )) AS "n_clusters",
  SUM(
    CAST((
      "t1"."__x__" IS NULL
    )
    OR (
      "t1"."__x__" = CAST('NaN' AS DOUBLE PRECISION)
    ) AS BIGINT)
  ) AS "miss0",
  SUM(
    CAST((
      "t1"."__z__" IS NULL
    )
    OR (
      "t1"."__z__" = CAST('NaN' AS DOUBLE PRECISION)
    ) AS BIGINT)
  ) AS "miss1",
  SUM(CAST("t1"."precinct_id" IS NULL AS BIGINT)) AS "miss2",
  SUM(CAST("t1"."household_id" IS NULL AS BIGINT)) AS "miss3"
FROM (
  SELECT
    CASE
      WHEN "t0"."propensity_band" IS NULL
      THEN CAST(NULL AS DOUBLE PRECISION)
      ELSE CASE WHEN "t0"."propensity_band" = 'intermittent' THEN 1.0 ELSE 0.0 END
    END AS "__x__",
    CASE
      WHEN CASE
        WHEN CAST("t0"."assigned" AS DOUBLE PRECISION) = 1.0
        THEN 1
        ELSE CASE
          WHEN CAST("t0"."assigned" AS DOUBLE PRECISION) = 0.0
          THEN 0
          ELSE CAST(NULL AS BIGINT)
        END
      END = 1
      THEN 1.0
      ELSE 0.0
    END AS "__z__",
    "t0"."precinct_id",
    "t0"."household_id"
  FROM "voters" AS "t0"
  WHERE
    CASE
      WHEN CAST("t0"."assigned" AS DOUBLE PRECISION) = 1.0
      THEN 1
      ELSE CASE
        WHEN CAST("t0"."assigned" AS DOUBLE PRECISION) = 0.0
        THEN 0
        ELSE CAST(NULL AS BIGINT)
      END
    END IN (1, 0)
) AS "t1";

-- pull: cluster totals
SELECT
  *
FROM (
  SELECT
    "t2"."_fx_cluster",
    COUNT(*) AS "n",
    SUM("t2"."_fx_y") AS "total",
    SUM("t2"."_fx_y" * "t2"."_fx_y") AS "total_sq",
    MIN("t2"."_fx_z") AS "z_min",
    MAX("t2"."_fx_z") AS "z_max",
    MIN("t2"."_fx_block") AS "b_min",
    MAX("t2"."_fx_block") AS "b_max"
  FROM (
    SELECT
      "t1"."__x__" AS "_fx_y",
      "t1"."__z__" AS "_fx_z",
      "t1"."precinct_id" AS "_fx_block",
      "t1"."household_id" AS "_fx_cluster"
    FROM (
      SELECT
        CASE
          WHEN "t0"."propensity_band" IS NULL
          THEN CAST(NULL AS DOUBLE PRECISION)
          ELSE CASE WHEN "t0"."propensity_band" = 'intermittent' THEN 1.0 ELSE 0.0 END
        END AS "__x__",
        CASE
          WHEN CASE
            WHEN CAST("t0"."assigned" AS DOUBLE PRECISION) = 1.0
            THEN 1
            ELSE CASE
              WHEN CAST("t0"."assigned" AS DOUBLE PRECISION) = 0.0
              THEN 0
              ELSE CAST(NULL AS BIGINT)
            END
          END = 1
          THEN 1.0
          ELSE 0.0
        END AS "__z__",
        "t0"."precinct_id",
        "t0"."household_id"
      FROM "voters" AS "t0"
      WHERE
        CASE
          WHEN CAST("t0"."assigned" AS DOUBLE PRECISION) = 1.0
          THEN 1
          ELSE CASE
            WHEN CAST("t0"."assigned" AS DOUBLE PRECISION) = 0.0
            THEN 0
            ELSE CAST(NULL AS BIGINT)
          END
        END IN (1, 0)
    ) AS "t1"
    WHERE
      TRUE
      AND NOT (
        (
          "t1"."__x__" IS NULL
        )
        OR (
          "t1"."__x__" = CAST('NaN' AS DOUBLE PRECISION)
        )
      )
      AND NOT (
        (
          "t1"."__z__" IS NULL
        )
        OR (
          "t1"."__z__" = CAST('NaN' AS DOUBLE PRECISION)
        )
      )
      AND NOT (
        "t1"."precinct_id" IS NULL
      )
      AND NOT (
        "t1"."household_id" IS NULL
      )
  ) AS "t2"
  GROUP BY
    1
) AS "t3"
ORDER BY
  "t3"."_fx_cluster" ASC;

-- pull: checks
SELECT
  COUNT(*) AS "n_total",
  SUM(
    CAST(TRUE
    AND NOT (
      (
        "t1"."__x__" IS NULL
      )
      OR (
        "t1"."__x__" = CAST('NaN' AS DOUBLE PRECISION)
      )
    )
    AND NOT (
      (
        "t1"."__z__" IS NULL
      )
      OR (
        "t1"."__z__" = CAST('NaN' AS DOUBLE PRECISION)
      )
    )
    AND NOT (
      "t1"."precinct_id" IS NULL
    )
    AND NOT (
      "t1"."household_id" IS NULL
    ) AS BIGINT)
  ) AS "n_complete",
  MIN("t1"."__x__") FILTER(WHERE
    TRUE
    AND NOT (
      (
        "t1"."__x__" IS NULL
      )
      OR (
        "t1"."__x__" = CAST('NaN' AS DOUBLE PRECISION)
      )
    )
    AND NOT (
      (
        "t1"."__z__" IS NULL
      )
      OR (
        "t1"."__z__" = CAST('NaN' AS DOUBLE PRECISION)
      )
    )
    AND NOT (
      "t1"."precinct_id" IS NULL
    )
    AND NOT (
      "t1"."household_id" IS NULL
    )) AS "y_min",
  MAX("t1"."__x__") FILTER(WHERE
    TRUE
    AND NOT (
      (
        "t1"."__x__" IS NULL
      )
      OR (
        "t1"."__x__" = CAST('NaN' AS DOUBLE PRECISION)
      )
    )
    AND NOT (
      (
        "t1"."__z__" IS NULL
      )
      OR (
        "t1"."__z__" = CAST('NaN' AS DOUBLE PRECISION)
      )
    )
    AND NOT (
      "t1"."precinct_id" IS NULL
    )
    AND NOT (
      "t1"."household_id" IS NULL
    )) AS "y_max",
  MIN("t1"."__z__") FILTER(WHERE
    TRUE
    AND NOT (
      (
        "t1"."__x__" IS NULL
      )
      OR (
        "t1"."__x__" = CAST('NaN' AS DOUBLE PRECISION)
      )
    )
    AND NOT (
      (
        "t1"."__z__" IS NULL
      )
      OR (
        "t1"."__z__" = CAST('NaN' AS DOUBLE PRECISION)
      )
    )
    AND NOT (
      "t1"."precinct_id" IS NULL
    )
    AND NOT (
      "t1"."household_id" IS NULL
    )) AS "z_min",
  MAX("t1"."__z__") FILTER(WHERE
    TRUE
    AND NOT (
      (
        "t1"."__x__" IS NULL
      )
      OR (
        "t1"."__x__" = CAST('NaN' AS DOUBLE PRECISION)
      )
    )
    AND NOT (
      (
        "t1"."__z__" IS NULL
      )
      OR (
        "t1"."__z__" = CAST('NaN' AS DOUBLE PRECISION)
      )
    )
    AND NOT (
      "t1"."precinct_id" IS NULL
    )
    AND NOT (
      "t1"."household_id" IS NULL
    )) AS "z_max",
  SUM(CAST(NOT (
    "t1"."__z__" IN (0.0, 1.0)
  ) AS BIGINT)) FILTER(WHERE
    TRUE
    AND NOT (
      (
        "t1"."__x__" IS NULL
      )
      OR (
        "t1"."__x__" = CAST('NaN' AS DOUBLE PRECISION)
      )
    )
    AND NOT (
      (
        "t1"."__z__" IS NULL
      )
      OR (
        "t1"."__z__" = CAST('NaN' AS DOUBLE PRECISION)
      )
    )
    AND NOT (
      "t1"."precinct_id" IS NULL
    )
    AND NOT (
      "t1"."household_id" IS NULL
    )) AS "z_bad",
  COUNT(DISTINCT "t1"."household_id") FILTER(WHERE
    TRUE
    AND NOT (
      (
        "t1"."__x__" IS NULL
      )
      OR (
        "t1"."__x__" = CAST('NaN' AS DOUBLE PRECISION)
      )
    )
    AND NOT (
      (
        "t1"."__z__" IS NULL
      )
      OR (
        "t1"."__z__" = CAST('NaN' AS DOUBLE PRECISION)
      )
    )
    AND NOT (
      "t1"."precinct_id" IS NULL
    )
    AND NOT (
      "t1"."household_id" IS NULL
    )) AS "n_clusters",
  SUM(
    CAST((
      "t1"."__x__" IS NULL
    )
    OR (
      "t1"."__x__" = CAST('NaN' AS DOUBLE PRECISION)
    ) AS BIGINT)
  ) AS "miss0",
  SUM(
    CAST((
      "t1"."__z__" IS NULL
    )
    OR (
      "t1"."__z__" = CAST('NaN' AS DOUBLE PRECISION)
    ) AS BIGINT)
  ) AS "miss1",
  SUM(CAST("t1"."precinct_id" IS NULL AS BIGINT)) AS "miss2",
  SUM(CAST("t1"."household_id" IS NULL AS BIGINT)) AS "miss3"
FROM (
  SELECT
    CASE
      WHEN "t0"."propensity_band" IS NULL
      THEN CAST(NULL AS DOUBLE PRECISION)
      ELSE CASE WHEN "t0"."propensity_band" = 'never' THEN 1.0 ELSE 0.0 END
    END AS "__x__",
    CASE
      WHEN CASE
        WHEN CAST("t0"."assigned" AS DOUBLE PRECISION) = 1.0
        THEN 1
        ELSE CASE
          WHEN CAST("t0"."assigned" AS DOUBLE PRECISION) = 0.0
          THEN 0
          ELSE CAST(NULL AS BIGINT)
        END
      END = 1
      THEN 1.0
      ELSE 0.0
    END AS "__z__",
    "t0"."precinct_id",
    "t0"."household_id"
  FROM "voters" AS "t0"
  WHERE
    CASE
      WHEN CAST("t0"."assigned" AS DOUBLE PRECISION) = 1.0
      THEN 1
      ELSE CASE
        WHEN CAST("t0"."assigned" AS DOUBLE PRECISION) = 0.0
        THEN 0
        ELSE CAST(NULL AS BIGINT)
      END
    END IN (1, 0)
) AS "t1";

-- pull: cluster totals
SELECT
  *
FROM (
  SELECT
    "t2"."_fx_cluster",
    COUNT(*) AS "n",
    SUM("t2"."_fx_y") AS "total",
    SUM("t2"."_fx_y" * "t2"."_fx_y") AS "total_sq",
    MIN("t2"."_fx_z") AS "z_min",
    MAX("t2"."_fx_z") AS "z_max",
    MIN("t2"."_fx_block") AS "b_min",
    MAX("t2"."_fx_block") AS "b_max"
  FROM (
    SELECT
      "t1"."__x__" AS "_fx_y",
      "t1"."__z__" AS "_fx_z",
      "t1"."precinct_id" AS "_fx_block",
      "t1"."household_id" AS "_fx_cluster"
    FROM (
      SELECT
        CASE
          WHEN "t0"."propensity_band" IS NULL
          THEN CAST(NULL AS DOUBLE PRECISION)
          ELSE CASE WHEN "t0"."propensity_band" = 'never' THEN 1.0 ELSE 0.0 END
        END AS "__x__",
        CASE
          WHEN CASE
            WHEN CAST("t0"."assigned" AS DOUBLE PRECISION) = 1.0
            THEN 1
            ELSE CASE
              WHEN CAST("t0"."assigned" AS DOUBLE PRECISION) = 0.0
              THEN 0
              ELSE CAST(NULL AS BIGINT)
            END
          END = 1
          THEN 1.0
          ELSE 0.0
        END AS "__z__",
        "t0"."precinct_id",
        "t0"."household_id"
      FROM "voters" AS "t0"
      WHERE
        CASE
          WHEN CAST("t0"."assigned" AS DOUBLE PRECISION) = 1.0
          THEN 1
          ELSE CASE
            WHEN CAST("t0"."assigned" AS DOUBLE PRECISION) = 0.0
            THEN 0
            ELSE CAST(NULL AS BIGINT)
          END
        END IN (1, 0)
    ) AS "t1"
    WHERE
      TRUE
      AND NOT (
        (
          "t1"."__x__" IS NULL
        )
        OR (
          "t1"."__x__" = CAST('NaN' AS DOUBLE PRECISION)
        )
      )
      AND NOT (
        (
          "t1"."__z__" IS NULL
        )
        OR (
          "t1"."__z__" = CAST('NaN' AS DOUBLE PRECISION)
        )
      )
      AND NOT (
        "t1"."precinct_id" IS NULL
      )
      AND NOT (
        "t1"."household_id" IS NULL
      )
  ) AS "t2"
  GROUP BY
    1
) AS "t3"
ORDER BY
  "t3"."_fx_cluster" ASC;

-- pull: checks
SELECT
  COUNT(*) AS "n_total",
  SUM(
    CAST(TRUE
    AND NOT (
      (
        "t1"."__x__" IS NULL
      )
      OR (
        "t1"."__x__" = CAST('NaN' AS DOUBLE PRECISION)
      )
    )
    AND NOT (
      (
        "t1"."__z__" IS NULL
      )
      OR (
        "t1"."__z__" = CAST('NaN' AS DOUBLE PRECISION)
      )
    )
    AND NOT (
      "t1"."precinct_id" IS NULL
    )
    AND NOT (
      "t1"."household_id" IS NULL
    ) AS BIGINT)
  ) AS "n_complete",
  MIN("t1"."__x__") FILTER(WHERE
    TRUE
    AND NOT (
      (
        "t1"."__x__" IS NULL
      )
      OR (
        "t1"."__x__" = CAST('NaN' AS DOUBLE PRECISION)
      )
    )
    AND NOT (
      (
        "t1"."__z__" IS NULL
      )
      OR (
        "t1"."__z__" = CAST('NaN' AS DOUBLE PRECISION)
      )
    )
    AND NOT (
      "t1"."precinct_id" IS NULL
    )
    AND NOT (
      "t1"."household_id" IS NULL
    )) AS "y_min",
  MAX("t1"."__x__") FILTER(WHERE
    TRUE
    AND NOT (
      (
        "t1"."__x__" IS NULL
      )
      OR (
        "t1"."__x__" = CAST('NaN' AS DOUBLE PRECISION)
      )
    )
    AND NOT (
      (
        "t1"."__z__" IS NULL
      )
      OR (
        "t1"."__z__" = CAST('NaN' AS DOUBLE PRECISION)
      )
    )
    AND NOT (
      "t1"."precinct_id" IS NULL
    )
    AND NOT (
      "t1"."household_id" IS NULL
    )) AS "y_max",
  MIN("t1"."__z__") FILTER(WHERE
    TRUE
    AND NOT (
      (
        "t1"."__x__" IS NULL
      )
      OR (
        "t1"."__x__" = CAST('NaN' AS DOUBLE PRECISION)
      )
    )
    AND NOT (
      (
        "t1"."__z__" IS NULL
      )
      OR (
        "t1"."__z__" = CAST('NaN' AS DOUBLE PRECISION)
      )
    )
    AND NOT (
      "t1"."precinct_id" IS NULL
    )
    AND NOT (
      "t1"."household_id" IS NULL
    )) AS "z_min",
  MAX("t1"."__z__") FILTER(WHERE
    TRUE
    AND NOT (
      (
        "t1"."__x__" IS NULL
      )
      OR (
        "t1"."__x__" = CAST('NaN' AS DOUBLE PRECISION)
      )
    )
    AND NOT (
      (
        "t1"."__z__" IS NULL
      )
      OR (
        "t1"."__z__" = CAST('NaN' AS DOUBLE PRECISION)
      )
    )
    AND NOT (
      "t1"."precinct_id" IS NULL
    )
    AND NOT (
      "t1"."household_id" IS NULL
    )) AS "z_max",
  SUM(CAST(NOT (
    "t1"."__z__" IN (0.0, 1.0)
  ) AS BIGINT)) FILTER(WHERE
    TRUE
    AND NOT (
      (
        "t1"."__x__" IS NULL
      )
      OR (
        "t1"."__x__" = CAST('NaN' AS DOUBLE PRECISION)
      )
    )
    AND NOT (
      (
        "t1"."__z__" IS NULL
      )
      OR (
        "t1"."__z__" = CAST('NaN' AS DOUBLE PRECISION)
      )
    )
    AND NOT (
      "t1"."precinct_id" IS NULL
    )
    AND NOT (
      "t1"."household_id" IS NULL
    )) AS "z_bad",
  COUNT(DISTINCT "t1"."household_id") FILTER(WHERE
    TRUE
    AND NOT (
      (
        "t1"."__x__" IS NULL
      )
      OR (
        "t1"."__x__" = CAST('NaN' AS DOUBLE PRECISION)
      )
    )
    AND NOT (
      (
        "t1"."__z__" IS NULL
      )
      OR (
        "t1"."__z__" = CAST('NaN' AS DOUBLE PRECISION)
      )
    )
    AND NOT (
      "t1"."precinct_id" IS NULL
    )
    AND NOT (
      "t1"."household_id" IS NULL
    )) AS "n_clusters",
  SUM(
    CAST((
      "t1"."__x__" IS NULL
    )
    OR (
      "t1"."__x__" = CAST('NaN' AS DOUBLE PRECISION)
    ) AS BIGINT)
  ) AS "miss0",
  SUM(
    CAST((
      "t1"."__z__" IS NULL
    )
    OR (
      "t1"."__z__" = CAST('NaN' AS DOUBLE PRECISION)
    ) AS BIGINT)
  ) AS "miss1",
  SUM(CAST("t1"."precinct_id" IS NULL AS BIGINT)) AS "miss2",
  SUM(CAST("t1"."household_id" IS NULL AS BIGINT)) AS "miss3"
FROM (
  SELECT
    CASE
      WHEN "t0"."propensity_band" IS NULL
      THEN CAST(NULL AS DOUBLE PRECISION)
      ELSE CASE WHEN "t0"."propensity_band" = 'regular' THEN 1.0 ELSE 0.0 END
    END AS "__x__",
    CASE
      WHEN CASE
        WHEN CAST("t0"."assigned" AS DOUBLE PRECISION) = 1.0
        THEN 1
        ELSE CASE
          WHEN CAST("t0"."assigned" AS DOUBLE PRECISION) = 0.0
          THEN 0
          ELSE CAST(NULL AS BIGINT)
        END
      END = 1
      THEN 1.0
      ELSE 0.0
    END AS "__z__",
    "t0"."precinct_id",
    "t0"."household_id"
  FROM "voters" AS "t0"
  WHERE
    CASE
      WHEN CAST("t0"."assigned" AS DOUBLE PRECISION) = 1.0
      THEN 1
      ELSE CASE
        WHEN CAST("t0"."assigned" AS DOUBLE PRECISION) = 0.0
        THEN 0
        ELSE CAST(NULL AS BIGINT)
      END
    END IN (1, 0)
) AS "t1";

-- pull: cluster totals
SELECT
  *
FROM (
  SELECT
    "t2"."_fx_cluster",
    COUNT(*) AS "n",
    SUM("t2"."_fx_y") AS "total",
    SUM("t2"."_fx_y" * "t2"."_fx_y") AS "total_sq",
    MIN("t2"."_fx_z") AS "z_min",
    MAX("t2"."_fx_z") AS "z_max",
    MIN("t2"."_fx_block") AS "b_min",
    MAX("t2"."_fx_block") AS "b_max"
  FROM (
    SELECT
      "t1"."__x__" AS "_fx_y",
      "t1"."__z__" AS "_fx_z",
      "t1"."precinct_id" AS "_fx_block",
      "t1"."household_id" AS "_fx_cluster"
    FROM (
      SELECT
        CASE
          WHEN "t0"."propensity_band" IS NULL
          THEN CAST(NULL AS DOUBLE PRECISION)
          ELSE CASE WHEN "t0"."propensity_band" = 'regular' THEN 1.0 ELSE 0.0 END
        END AS "__x__",
        CASE
          WHEN CASE
            WHEN CAST("t0"."assigned" AS DOUBLE PRECISION) = 1.0
            THEN 1
            ELSE CASE
              WHEN CAST("t0"."assigned" AS DOUBLE PRECISION) = 0.0
              THEN 0
              ELSE CAST(NULL AS BIGINT)
            END
          END = 1
          THEN 1.0
          ELSE 0.0
        END AS "__z__",
        "t0"."precinct_id",
        "t0"."household_id"
      FROM "voters" AS "t0"
      WHERE
        CASE
          WHEN CAST("t0"."assigned" AS DOUBLE PRECISION) = 1.0
          THEN 1
          ELSE CASE
            WHEN CAST("t0"."assigned" AS DOUBLE PRECISION) = 0.0
            THEN 0
            ELSE CAST(NULL AS BIGINT)
          END
        END IN (1, 0)
    ) AS "t1"
    WHERE
      TRUE
      AND NOT (
        (
          "t1"."__x__" IS NULL
        )
        OR (
          "t1"."__x__" = CAST('NaN' AS DOUBLE PRECISION)
        )
      )
      AND NOT (
        (
          "t1"."__z__" IS NULL
        )
        OR (
          "t1"."__z__" = CAST('NaN' AS DOUBLE PRECISION)
        )
      )
      AND NOT (
        "t1"."precinct_id" IS NULL
      )
      AND NOT (
        "t1"."household_id" IS NULL
      )
  ) AS "t2"
  GROUP BY
    1
) AS "t3"
ORDER BY
  "t3"."_fx_cluster" ASC;

-- pull: clusters
SELECT
  *
FROM (
  SELECT
    "t1"."household_id",
    MIN("t1"."_fx_arm") AS "_amin",
    MAX("t1"."_fx_arm") AS "_amax",
    MIN("t1"."precinct_id") AS "_b",
    MAX("t1"."precinct_id") AS "_bmax"
  FROM (
    SELECT
      "t0"."voter_id",
      "t0"."household_id",
      "t0"."precinct_id",
      "t0"."city",
      "t0"."assigned",
      "t0"."attempted",
      "t0"."contacted",
      "t0"."voted",
      "t0"."registered",
      "t0"."registered_after",
      "t0"."voted_2016",
      "t0"."voted_2018",
      "t0"."voted_2020",
      CAST("t0"."age" AS DOUBLE PRECISION) AS "age",
      "t0"."female",
      "t0"."propensity_band",
      "t0"."weight",
      CASE
        WHEN CAST("t0"."assigned" AS DOUBLE PRECISION) = 1.0
        THEN 1
        ELSE CASE
          WHEN CAST("t0"."assigned" AS DOUBLE PRECISION) = 0.0
          THEN 0
          ELSE CAST(NULL AS BIGINT)
        END
      END AS "_fx_arm",
      CASE
        WHEN "t0"."propensity_band" IS NULL
        THEN CAST(NULL AS DOUBLE PRECISION)
        ELSE CASE WHEN "t0"."propensity_band" = 'intermittent' THEN 1.0 ELSE 0.0 END
      END AS "propensity_band=intermittent",
      CASE
        WHEN "t0"."propensity_band" IS NULL
        THEN CAST(NULL AS DOUBLE PRECISION)
        ELSE CASE WHEN "t0"."propensity_band" = 'never' THEN 1.0 ELSE 0.0 END
      END AS "propensity_band=never",
      CASE
        WHEN "t0"."propensity_band" IS NULL
        THEN CAST(NULL AS DOUBLE PRECISION)
        ELSE CASE WHEN "t0"."propensity_band" = 'regular' THEN 1.0 ELSE 0.0 END
      END AS "propensity_band=regular"
    FROM "voters" AS "t0"
    WHERE
      CASE
        WHEN CAST("t0"."assigned" AS DOUBLE PRECISION) = 1.0
        THEN 1
        ELSE CASE
          WHEN CAST("t0"."assigned" AS DOUBLE PRECISION) = 0.0
          THEN 0
          ELSE CAST(NULL AS BIGINT)
        END
      END IS NOT NULL
  ) AS "t1"
  GROUP BY
    1
) AS "t2"
ORDER BY
  "t2"."household_id" ASC;

-- pull: within-block cross-products
WITH "t2" AS (
  SELECT
    "t1"."voter_id",
    "t1"."household_id",
    "t1"."precinct_id",
    "t1"."city",
    "t1"."assigned",
    "t1"."attempted",
    "t1"."contacted",
    "t1"."voted",
    "t1"."registered",
    "t1"."registered_after",
    "t1"."voted_2016",
    "t1"."voted_2018",
    "t1"."voted_2020",
    "t1"."age",
    "t1"."female",
    "t1"."propensity_band",
    "t1"."weight",
    "t1"."_fx_arm",
    "t1"."propensity_band=intermittent",
    "t1"."propensity_band=never",
    "t1"."propensity_band=regular",
    TRUE
    AND (
      "t1"."age" IS NOT NULL
    )
    AND (
      "t1"."propensity_band=intermittent" IS NOT NULL
    )
    AND (
      "t1"."propensity_band=never" IS NOT NULL
    )
    AND (
      "t1"."propensity_band=regular" IS NOT NULL
    ) AS "_fx_ok",
    "t1"."precinct_id" AS "_fx_block"
  FROM (
    SELECT
      "t0"."voter_id",
      "t0"."household_id",
      "t0"."precinct_id",
      "t0"."city",
      "t0"."assigned",
      "t0"."attempted",
      "t0"."contacted",
      "t0"."voted",
      "t0"."registered",
      "t0"."registered_after",
      "t0"."voted_2016",
      "t0"."voted_2018",
      "t0"."voted_2020",
      CAST("t0"."age" AS DOUBLE PRECISION) AS "age",
      "t0"."female",
      "t0"."propensity_band",
      "t0"."weight",
      CASE
        WHEN CAST("t0"."assigned" AS DOUBLE PRECISION) = 1.0
        THEN 1
        ELSE CASE
          WHEN CAST("t0"."assigned" AS DOUBLE PRECISION) = 0.0
          THEN 0
          ELSE CAST(NULL AS BIGINT)
        END
      END AS "_fx_arm",
      CASE
        WHEN "t0"."propensity_band" IS NULL
        THEN CAST(NULL AS DOUBLE PRECISION)
        ELSE CASE WHEN "t0"."propensity_band" = 'intermittent' THEN 1.0 ELSE 0.0 END
      END AS "propensity_band=intermittent",
      CASE
        WHEN "t0"."propensity_band" IS NULL
        THEN CAST(NULL AS DOUBLE PRECISION)
        ELSE CASE WHEN "t0"."propensity_band" = 'never' THEN 1.0 ELSE 0.0 END
      END AS "propensity_band=never",
      CASE
        WHEN "t0"."propensity_band" IS NULL
        THEN CAST(NULL AS DOUBLE PRECISION)
        ELSE CASE WHEN "t0"."propensity_band" = 'regular' THEN 1.0 ELSE 0.0 END
      END AS "propensity_band=regular"
    FROM "voters" AS "t0"
    WHERE
      CASE
        WHEN CAST("t0"."assigned" AS DOUBLE PRECISION) = 1.0
        THEN 1
        ELSE CASE
          WHEN CAST("t0"."assigned" AS DOUBLE PRECISION) = 0.0
          THEN 0
          ELSE CAST(NULL AS BIGINT)
        END
      END IN (0, 1)
  ) AS "t1"
  WHERE
    TRUE
    AND (
      "t1"."age" IS NOT NULL
    )
    AND (
      "t1"."propensity_band=intermittent" IS NOT NULL
    )
    AND (
      "t1"."propensity_band=never" IS NOT NULL
    )
    AND (
      "t1"."propensity_band=regular" IS NOT NULL
    )
)
SELECT
  COUNT(*) AS "_fx_n",
  SUM("t7"."_xt0" * "t7"."_xt0") AS "cp_0_0",
  SUM("t7"."_xt0" * "t7"."_xt1") AS "cp_0_1",
  SUM("t7"."_xt0" * "t7"."_xt2") AS "cp_0_2",
  SUM("t7"."_xt0" * "t7"."_xt3") AS "cp_0_3",
  SUM("t7"."_xt1" * "t7"."_xt1") AS "cp_1_1",
  SUM("t7"."_xt1" * "t7"."_xt2") AS "cp_1_2",
  SUM("t7"."_xt1" * "t7"."_xt3") AS "cp_1_3",
  SUM("t7"."_xt2" * "t7"."_xt2") AS "cp_2_2",
  SUM("t7"."_xt2" * "t7"."_xt3") AS "cp_2_3",
  SUM("t7"."_xt3" * "t7"."_xt3") AS "cp_3_3"
FROM (
  SELECT
    "t4"."household_id",
    "t4"."_fx_block",
    "t4"."age" - "t6"."_mb0" AS "_xt0",
    "t4"."propensity_band=intermittent" - "t6"."_mb1" AS "_xt1",
    "t4"."propensity_band=never" - "t6"."_mb2" AS "_xt2",
    "t4"."propensity_band=regular" - "t6"."_mb3" AS "_xt3"
  FROM "t2" AS "t4"
  INNER JOIN (
    SELECT
      "t3"."_fx_block",
      COUNT(*) AS "_fx_nb",
      AVG("t3"."age") AS "_mb0",
      AVG("t3"."propensity_band=intermittent") AS "_mb1",
      AVG("t3"."propensity_band=never") AS "_mb2",
      AVG("t3"."propensity_band=regular") AS "_mb3"
    FROM "t2" AS "t3"
    GROUP BY
      1
  ) AS "t6"
    ON "t4"."_fx_block" = "t6"."_fx_block"
) AS "t7";

-- pull: cluster sums of the within-block covariates
WITH "t2" AS (
  SELECT
    "t1"."voter_id",
    "t1"."household_id",
    "t1"."precinct_id",
    "t1"."city",
    "t1"."assigned",
    "t1"."attempted",
    "t1"."contacted",
    "t1"."voted",
    "t1"."registered",
    "t1"."registered_after",
    "t1"."voted_2016",
    "t1"."voted_2018",
    "t1"."voted_2020",
    "t1"."age",
    "t1"."female",
    "t1"."propensity_band",
    "t1"."weight",
    "t1"."_fx_arm",
    "t1"."propensity_band=intermittent",
    "t1"."propensity_band=never",
    "t1"."propensity_band=regular",
    TRUE
    AND (
      "t1"."age" IS NOT NULL
    )
    AND (
      "t1"."propensity_band=intermittent" IS NOT NULL
    )
    AND (
      "t1"."propensity_band=never" IS NOT NULL
    )
    AND (
      "t1"."propensity_band=regular" IS NOT NULL
    ) AS "_fx_ok",
    "t1"."precinct_id" AS "_fx_block"
  FROM (
    SELECT
      "t0"."voter_id",
      "t0"."household_id",
      "t0"."precinct_id",
      "t0"."city",
      "t0"."assigned",
      "t0"."attempted",
      "t0"."contacted",
      "t0"."voted",
      "t0"."registered",
      "t0"."registered_after",
      "t0"."voted_2016",
      "t0"."voted_2018",
      "t0"."voted_2020",
      CAST("t0"."age" AS DOUBLE PRECISION) AS "age",
      "t0"."female",
      "t0"."propensity_band",
      "t0"."weight",
      CASE
        WHEN CAST("t0"."assigned" AS DOUBLE PRECISION) = 1.0
        THEN 1
        ELSE CASE
          WHEN CAST("t0"."assigned" AS DOUBLE PRECISION) = 0.0
          THEN 0
          ELSE CAST(NULL AS BIGINT)
        END
      END AS "_fx_arm",
      CASE
        WHEN "t0"."propensity_band" IS NULL
        THEN CAST(NULL AS DOUBLE PRECISION)
        ELSE CASE WHEN "t0"."propensity_band" = 'intermittent' THEN 1.0 ELSE 0.0 END
      END AS "propensity_band=intermittent",
      CASE
        WHEN "t0"."propensity_band" IS NULL
        THEN CAST(NULL AS DOUBLE PRECISION)
        ELSE CASE WHEN "t0"."propensity_band" = 'never' THEN 1.0 ELSE 0.0 END
      END AS "propensity_band=never",
      CASE
        WHEN "t0"."propensity_band" IS NULL
        THEN CAST(NULL AS DOUBLE PRECISION)
        ELSE CASE WHEN "t0"."propensity_band" = 'regular' THEN 1.0 ELSE 0.0 END
      END AS "propensity_band=regular"
    FROM "voters" AS "t0"
    WHERE
      CASE
        WHEN CAST("t0"."assigned" AS DOUBLE PRECISION) = 1.0
        THEN 1
        ELSE CASE
          WHEN CAST("t0"."assigned" AS DOUBLE PRECISION) = 0.0
          THEN 0
          ELSE CAST(NULL AS BIGINT)
        END
      END IN (0, 1)
  ) AS "t1"
  WHERE
    TRUE
    AND (
      "t1"."age" IS NOT NULL
    )
    AND (
      "t1"."propensity_band=intermittent" IS NOT NULL
    )
    AND (
      "t1"."propensity_band=never" IS NOT NULL
    )
    AND (
      "t1"."propensity_band=regular" IS NOT NULL
    )
)
SELECT
  "t7"."household_id",
  COUNT(*) AS "_fx_ng",
  SUM("t7"."_xt0") AS "_s0",
  SUM("t7"."_xt1") AS "_s1",
  SUM("t7"."_xt2") AS "_s2",
  SUM("t7"."_xt3") AS "_s3"
FROM (
  SELECT
    "t4"."household_id",
    "t4"."_fx_block",
    "t4"."age" - "t6"."_mb0" AS "_xt0",
    "t4"."propensity_band=intermittent" - "t6"."_mb1" AS "_xt1",
    "t4"."propensity_band=never" - "t6"."_mb2" AS "_xt2",
    "t4"."propensity_band=regular" - "t6"."_mb3" AS "_xt3"
  FROM "t2" AS "t4"
  INNER JOIN (
    SELECT
      "t3"."_fx_block",
      COUNT(*) AS "_fx_nb",
      AVG("t3"."age") AS "_mb0",
      AVG("t3"."propensity_band=intermittent") AS "_mb1",
      AVG("t3"."propensity_band=never") AS "_mb2",
      AVG("t3"."propensity_band=regular") AS "_mb3"
    FROM "t2" AS "t3"
    GROUP BY
      1
  ) AS "t6"
    ON "t4"."_fx_block" = "t6"."_fx_block"
) AS "t7"
GROUP BY
  1;

-- pull: rows missing a covariate
SELECT
  SUM(CAST(NOT (
    "t2"."_fx_ok"
  ) AS BIGINT)) AS "n"
FROM (
  SELECT
    "t1"."voter_id",
    "t1"."household_id",
    "t1"."precinct_id",
    "t1"."city",
    "t1"."assigned",
    "t1"."attempted",
    "t1"."contacted",
    "t1"."voted",
    "t1"."registered",
    "t1"."registered_after",
    "t1"."voted_2016",
    "t1"."voted_2018",
    "t1"."voted_2020",
    "t1"."age",
    "t1"."female",
    "t1"."propensity_band",
    "t1"."weight",
    "t1"."_fx_arm",
    "t1"."propensity_band=intermittent",
    "t1"."propensity_band=never",
    "t1"."propensity_band=regular",
    TRUE
    AND (
      "t1"."age" IS NOT NULL
    )
    AND (
      "t1"."propensity_band=intermittent" IS NOT NULL
    )
    AND (
      "t1"."propensity_band=never" IS NOT NULL
    )
    AND (
      "t1"."propensity_band=regular" IS NOT NULL
    ) AS "_fx_ok",
    "t1"."precinct_id" AS "_fx_block"
  FROM (
    SELECT
      "t0"."voter_id",
      "t0"."household_id",
      "t0"."precinct_id",
      "t0"."city",
      "t0"."assigned",
      "t0"."attempted",
      "t0"."contacted",
      "t0"."voted",
      "t0"."registered",
      "t0"."registered_after",
      "t0"."voted_2016",
      "t0"."voted_2018",
      "t0"."voted_2020",
      CAST("t0"."age" AS DOUBLE PRECISION) AS "age",
      "t0"."female",
      "t0"."propensity_band",
      "t0"."weight",
      CASE
        WHEN CAST("t0"."assigned" AS DOUBLE PRECISION) = 1.0
        THEN 1
        ELSE CASE
          WHEN CAST("t0"."assigned" AS DOUBLE PRECISION) = 0.0
          THEN 0
          ELSE CAST(NULL AS BIGINT)
        END
      END AS "_fx_arm",
      CASE
        WHEN "t0"."propensity_band" IS NULL
        THEN CAST(NULL AS DOUBLE PRECISION)
        ELSE CASE WHEN "t0"."propensity_band" = 'intermittent' THEN 1.0 ELSE 0.0 END
      END AS "propensity_band=intermittent",
      CASE
        WHEN "t0"."propensity_band" IS NULL
        THEN CAST(NULL AS DOUBLE PRECISION)
        ELSE CASE WHEN "t0"."propensity_band" = 'never' THEN 1.0 ELSE 0.0 END
      END AS "propensity_band=never",
      CASE
        WHEN "t0"."propensity_band" IS NULL
        THEN CAST(NULL AS DOUBLE PRECISION)
        ELSE CASE WHEN "t0"."propensity_band" = 'regular' THEN 1.0 ELSE 0.0 END
      END AS "propensity_band=regular"
    FROM "voters" AS "t0"
    WHERE
      CASE
        WHEN CAST("t0"."assigned" AS DOUBLE PRECISION) = 1.0
        THEN 1
        ELSE CASE
          WHEN CAST("t0"."assigned" AS DOUBLE PRECISION) = 0.0
          THEN 0
          ELSE CAST(NULL AS BIGINT)
        END
      END IN (0, 1)
  ) AS "t1"
) AS "t2";

-- pull: blocks
SELECT
  COUNT(*) AS "n"
FROM (
  SELECT
    "t2"."_fx_block",
    COUNT(*) AS "_fx_nb",
    AVG("t2"."age") AS "_mb0",
    AVG("t2"."propensity_band=intermittent") AS "_mb1",
    AVG("t2"."propensity_band=never") AS "_mb2",
    AVG("t2"."propensity_band=regular") AS "_mb3"
  FROM (
    SELECT
      "t1"."voter_id",
      "t1"."household_id",
      "t1"."precinct_id",
      "t1"."city",
      "t1"."assigned",
      "t1"."attempted",
      "t1"."contacted",
      "t1"."voted",
      "t1"."registered",
      "t1"."registered_after",
      "t1"."voted_2016",
      "t1"."voted_2018",
      "t1"."voted_2020",
      "t1"."age",
      "t1"."female",
      "t1"."propensity_band",
      "t1"."weight",
      "t1"."_fx_arm",
      "t1"."propensity_band=intermittent",
      "t1"."propensity_band=never",
      "t1"."propensity_band=regular",
      TRUE
      AND (
        "t1"."age" IS NOT NULL
      )
      AND (
        "t1"."propensity_band=intermittent" IS NOT NULL
      )
      AND (
        "t1"."propensity_band=never" IS NOT NULL
      )
      AND (
        "t1"."propensity_band=regular" IS NOT NULL
      ) AS "_fx_ok",
      "t1"."precinct_id" AS "_fx_block"
    FROM (
      SELECT
        "t0"."voter_id",
        "t0"."household_id",
        "t0"."precinct_id",
        "t0"."city",
        "t0"."assigned",
        "t0"."attempted",
        "t0"."contacted",
        "t0"."voted",
        "t0"."registered",
        "t0"."registered_after",
        "t0"."voted_2016",
        "t0"."voted_2018",
        "t0"."voted_2020",
        CAST("t0"."age" AS DOUBLE PRECISION) AS "age",
        "t0"."female",
        "t0"."propensity_band",
        "t0"."weight",
        CASE
          WHEN CAST("t0"."assigned" AS DOUBLE PRECISION) = 1.0
          THEN 1
          ELSE CASE
            WHEN CAST("t0"."assigned" AS DOUBLE PRECISION) = 0.0
            THEN 0
            ELSE CAST(NULL AS BIGINT)
          END
        END AS "_fx_arm",
        CASE
          WHEN "t0"."propensity_band" IS NULL
          THEN CAST(NULL AS DOUBLE PRECISION)
          ELSE CASE WHEN "t0"."propensity_band" = 'intermittent' THEN 1.0 ELSE 0.0 END
        END AS "propensity_band=intermittent",
        CASE
          WHEN "t0"."propensity_band" IS NULL
          THEN CAST(NULL AS DOUBLE PRECISION)
          ELSE CASE WHEN "t0"."propensity_band" = 'never' THEN 1.0 ELSE 0.0 END
        END AS "propensity_band=never",
        CASE
          WHEN "t0"."propensity_band" IS NULL
          THEN CAST(NULL AS DOUBLE PRECISION)
          ELSE CASE WHEN "t0"."propensity_band" = 'regular' THEN 1.0 ELSE 0.0 END
        END AS "propensity_band=regular"
      FROM "voters" AS "t0"
      WHERE
        CASE
          WHEN CAST("t0"."assigned" AS DOUBLE PRECISION) = 1.0
          THEN 1
          ELSE CASE
            WHEN CAST("t0"."assigned" AS DOUBLE PRECISION) = 0.0
            THEN 0
            ELSE CAST(NULL AS BIGINT)
          END
        END IN (0, 1)
    ) AS "t1"
    WHERE
      TRUE
      AND (
        "t1"."age" IS NOT NULL
      )
      AND (
        "t1"."propensity_band=intermittent" IS NOT NULL
      )
      AND (
        "t1"."propensity_band=never" IS NOT NULL
      )
      AND (
        "t1"."propensity_band=regular" IS NOT NULL
      )
  ) AS "t2"
  GROUP BY
    1
) AS "t3";
