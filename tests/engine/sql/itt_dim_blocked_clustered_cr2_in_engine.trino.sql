-- pull: checks
SELECT
  COUNT(*) AS "n_total",
  SUM(
    CAST(TRUE
    AND NOT (
      "t0"."voted" IS NULL
    )
    AND NOT (
      "t0"."assigned" IS NULL
    )
    AND NOT (
      "t0"."precinct_id" IS NULL
    )
    AND NOT (
      "t0"."household_id" IS NULL
    ) AS BIGINT)
  ) AS "n_complete",
  MIN(CAST("t0"."voted" AS DOUBLE)) FILTER(WHERE
    TRUE
    AND NOT (
      "t0"."voted" IS NULL
    )
    AND NOT (
      "t0"."assigned" IS NULL
    )
    AND NOT (
      "t0"."precinct_id" IS NULL
    )
    AND NOT (
      "t0"."household_id" IS NULL
    )) AS "y_min",
  MAX(CAST("t0"."voted" AS DOUBLE)) FILTER(WHERE
    TRUE
    AND NOT (
      "t0"."voted" IS NULL
    )
    AND NOT (
      "t0"."assigned" IS NULL
    )
    AND NOT (
      "t0"."precinct_id" IS NULL
    )
    AND NOT (
      "t0"."household_id" IS NULL
    )) AS "y_max",
  MIN(CAST("t0"."assigned" AS DOUBLE)) FILTER(WHERE
    TRUE
    AND NOT (
      "t0"."voted" IS NULL
    )
    AND NOT (
      "t0"."assigned" IS NULL
    )
    AND NOT (
      "t0"."precinct_id" IS NULL
    )
    AND NOT (
      "t0"."household_id" IS NULL
    )) AS "z_min",
  MAX(CAST("t0"."assigned" AS DOUBLE)) FILTER(WHERE
    TRUE
    AND NOT (
      "t0"."voted" IS NULL
    )
    AND NOT (
      "t0"."assigned" IS NULL
    )
    AND NOT (
      "t0"."precinct_id" IS NULL
    )
    AND NOT (
      "t0"."household_id" IS NULL
    )) AS "z_max",
  SUM(
    CAST(NOT (
      CAST("t0"."assigned" AS DOUBLE) IN (CAST(0.0 AS DOUBLE), CAST(1.0 AS DOUBLE))
    ) AS BIGINT)
  ) FILTER(WHERE
    TRUE
    AND NOT (
      "t0"."voted" IS NULL
    )
    AND NOT (
      "t0"."assigned" IS NULL
    )
    AND NOT (
      "t0"."precinct_id" IS NULL
    )
    AND NOT (
      "t0"."household_id" IS NULL
    )) AS "z_bad",
  COUNT(DISTINCT "t0"."household_id") FILTER(WHERE
    TRUE
    AND NOT (
      "t0"."voted" IS NULL
    )
    AND NOT (
      "t0"."assigned" IS NULL
    )
    AND NOT (
      "t0"."precinct_id" IS NULL
    )
    AND NOT (
      "t0"."household_id" IS NULL
    )) AS "n_clusters",
  SUM(CAST("t0"."voted" IS NULL AS BIGINT)) AS "miss0",
  SUM(CAST("t0"."assigned" IS NULL AS BIGINT)) AS "miss1",
  SUM(CAST("t0"."precinct_id" IS NULL AS BIGINT)) AS "miss2",
  SUM(CAST("t0"."household_id" IS NULL AS BIGINT)) AS "miss3"
FROM "voters" AS "t0";

-- pull: block x arm totals
SELECT
  *
FROM (
  SELECT
    "t1"."_fx_block",
    "t1"."_fx_z",
    COUNT(*) AS "_fx_cell_n",
    SUM("t1"."_fx_y") AS "_fx_cell_s",
    SUM("t1"."_fx_y" * "t1"."_fx_y") AS "_fx_cell_q"
  FROM (
    SELECT
      CAST("t0"."voted" AS DOUBLE) AS "_fx_y",
      CAST("t0"."assigned" AS DOUBLE) AS "_fx_z",
      "t0"."precinct_id" AS "_fx_block",
      "t0"."household_id" AS "_fx_cluster"
    FROM "voters" AS "t0"
    WHERE
      TRUE
      AND NOT (
        "t0"."voted" IS NULL
      )
      AND NOT (
        "t0"."assigned" IS NULL
      )
      AND NOT (
        "t0"."precinct_id" IS NULL
      )
      AND NOT (
        "t0"."household_id" IS NULL
      )
  ) AS "t1"
  GROUP BY
    1,
    2
) AS "t2"
ORDER BY
  "t2"."_fx_block" ASC,
  "t2"."_fx_z" ASC;

-- pull: CR2 sums by block
WITH "t1" AS (
  SELECT
    CAST("t0"."voted" AS DOUBLE) AS "_fx_y",
    CAST("t0"."assigned" AS DOUBLE) AS "_fx_z",
    "t0"."precinct_id" AS "_fx_block",
    "t0"."household_id" AS "_fx_cluster"
  FROM "voters" AS "t0"
  WHERE
    TRUE
    AND NOT (
      "t0"."voted" IS NULL
    )
    AND NOT (
      "t0"."assigned" IS NULL
    )
    AND NOT (
      "t0"."precinct_id" IS NULL
    )
    AND NOT (
      "t0"."household_id" IS NULL
    )
)
SELECT
  *
FROM (
  SELECT
    "t8"."_fx_block",
    SUM("t8"."_contrib") AS "_fx_var",
    COUNT(*) AS "_fx_ncl",
    SUM(CAST("t8"."_zmin" <> "t8"."_zmax" AS BIGINT)) AS "_mixed",
    SUM(CAST("t8"."_bmin" <> "t8"."_bmax" AS BIGINT)) AS "_spans",
    SUM("t8"."_q") AS "_sq",
    SUM("t8"."_q" * "t8"."_q") AS "_sq2",
    SUM("t8"."_s2") AS "_ss2",
    SUM("t8"."_s2" * "t8"."_zmin") AS "_ss2z",
    SUM("t8"."_q" * "t8"."_s2") AS "_sqs2",
    SUM("t8"."_q" * "t8"."_s2" * "t8"."_zmin") AS "_sqs2z"
  FROM (
    SELECT
      "t7"."_fx_cluster",
      "t7"."_fx_cl_n",
      "t7"."_fx_cl_y",
      "t7"."_zmin",
      "t7"."_zmax",
      "t7"."_bmin",
      "t7"."_bmax",
      "t7"."_fx_block",
      "t7"."_fx_z",
      "t7"."_fx_cell_n",
      "t7"."_fx_cell_s",
      "t7"."_fx_cell_q",
      CAST((
        (
          "t7"."_fx_cl_y" - (
            (
              CAST("t7"."_fx_cl_n" AS DOUBLE) * "t7"."_fx_cell_s"
            ) / CAST("t7"."_fx_cell_n" AS DOUBLE)
          )
        ) * (
          "t7"."_fx_cl_y" - (
            (
              CAST("t7"."_fx_cl_n" AS DOUBLE) * "t7"."_fx_cell_s"
            ) / CAST("t7"."_fx_cell_n" AS DOUBLE)
          )
        ) * IF(
          (
            CAST(1.0 AS DOUBLE) - (
              CAST("t7"."_fx_cl_n" AS DOUBLE) / CAST("t7"."_fx_cell_n" AS DOUBLE)
            )
          ) > CAST(<num> AS DOUBLE),
          CAST(1.0 AS DOUBLE) / IF(
            (
              CAST(1.0 AS DOUBLE) - (
                CAST("t7"."_fx_cl_n" AS DOUBLE) / CAST("t7"."_fx_cell_n" AS DOUBLE)
              )
            ) > CAST(<num> AS DOUBLE),
            CAST(1.0 AS DOUBLE) - (
              CAST("t7"."_fx_cl_n" AS DOUBLE) / CAST("t7"."_fx_cell_n" AS DOUBLE)
            ),
            CAST(1.0 AS DOUBLE)
          ),
          CAST(0.0 AS DOUBLE)
        )
      ) AS DOUBLE) / (
        CAST("t7"."_fx_cell_n" AS DOUBLE) * CAST("t7"."_fx_cell_n" AS DOUBLE)
      ) AS "_contrib",
      IF(
        "t7"."_zmin" = CAST(1.0 AS DOUBLE),
        CAST(1.0 AS DOUBLE) / CAST("t7"."_fx_cell_n" AS DOUBLE),
        CAST(-1.0 AS DOUBLE) / CAST("t7"."_fx_cell_n" AS DOUBLE)
      ) * IF(
        "t7"."_zmin" = CAST(1.0 AS DOUBLE),
        CAST(1.0 AS DOUBLE) / CAST("t7"."_fx_cell_n" AS DOUBLE),
        CAST(-1.0 AS DOUBLE) / CAST("t7"."_fx_cell_n" AS DOUBLE)
      ) * CAST("t7"."_fx_cl_n" AS DOUBLE) * IF(
        (
          CAST(1.0 AS DOUBLE) - (
            CAST("t7"."_fx_cl_n" AS DOUBLE) / CAST("t7"."_fx_cell_n" AS DOUBLE)
          )
        ) > CAST(<num> AS DOUBLE),
        CAST(1.0 AS DOUBLE) / IF(
          (
            CAST(1.0 AS DOUBLE) - (
              CAST("t7"."_fx_cl_n" AS DOUBLE) / CAST("t7"."_fx_cell_n" AS DOUBLE)
            )
          ) > CAST(<num> AS DOUBLE),
          CAST(1.0 AS DOUBLE) - (
            CAST("t7"."_fx_cl_n" AS DOUBLE) / CAST("t7"."_fx_cell_n" AS DOUBLE)
          ),
          CAST(1.0 AS DOUBLE)
        ),
        CAST(0.0 AS DOUBLE)
      ) AS "_q",
      IF(
        "t7"."_zmin" = CAST(1.0 AS DOUBLE),
        CAST(1.0 AS DOUBLE) / CAST("t7"."_fx_cell_n" AS DOUBLE),
        CAST(-1.0 AS DOUBLE) / CAST("t7"."_fx_cell_n" AS DOUBLE)
      ) * IF(
        "t7"."_zmin" = CAST(1.0 AS DOUBLE),
        CAST(1.0 AS DOUBLE) / CAST("t7"."_fx_cell_n" AS DOUBLE),
        CAST(-1.0 AS DOUBLE) / CAST("t7"."_fx_cell_n" AS DOUBLE)
      ) * CAST("t7"."_fx_cl_n" AS DOUBLE) * CAST("t7"."_fx_cl_n" AS DOUBLE) * IF(
        (
          CAST(1.0 AS DOUBLE) - (
            CAST("t7"."_fx_cl_n" AS DOUBLE) / CAST("t7"."_fx_cell_n" AS DOUBLE)
          )
        ) > CAST(<num> AS DOUBLE),
        CAST(1.0 AS DOUBLE) / IF(
          (
            CAST(1.0 AS DOUBLE) - (
              CAST("t7"."_fx_cl_n" AS DOUBLE) / CAST("t7"."_fx_cell_n" AS DOUBLE)
            )
          ) > CAST(<num> AS DOUBLE),
          CAST(1.0 AS DOUBLE) - (
            CAST("t7"."_fx_cl_n" AS DOUBLE) / CAST("t7"."_fx_cell_n" AS DOUBLE)
          ),
          CAST(1.0 AS DOUBLE)
        ),
        CAST(0.0 AS DOUBLE)
      ) AS "_s2"
    FROM (
      SELECT
        "t5"."_fx_cluster",
        "t5"."_fx_cl_n",
        "t5"."_fx_cl_y",
        "t5"."_zmin",
        "t5"."_zmax",
        "t5"."_bmin",
        "t5"."_bmax",
        "t6"."_fx_block",
        "t6"."_fx_z",
        "t6"."_fx_cell_n",
        "t6"."_fx_cell_s",
        "t6"."_fx_cell_q"
      FROM (
        SELECT
          "t2"."_fx_cluster",
          COUNT(*) AS "_fx_cl_n",
          SUM("t2"."_fx_y") AS "_fx_cl_y",
          MIN("t2"."_fx_z") AS "_zmin",
          MAX("t2"."_fx_z") AS "_zmax",
          MIN("t2"."_fx_block") AS "_bmin",
          MAX("t2"."_fx_block") AS "_bmax"
        FROM "t1" AS "t2"
        GROUP BY
          1
      ) AS "t5"
      INNER JOIN (
        SELECT
          "t2"."_fx_block",
          "t2"."_fx_z",
          COUNT(*) AS "_fx_cell_n",
          SUM("t2"."_fx_y") AS "_fx_cell_s",
          SUM("t2"."_fx_y" * "t2"."_fx_y") AS "_fx_cell_q"
        FROM "t1" AS "t2"
        GROUP BY
          1,
          2
      ) AS "t6"
        ON "t5"."_bmin" = "t6"."_fx_block" AND "t5"."_zmin" = "t6"."_fx_z"
    ) AS "t7"
  ) AS "t8"
  GROUP BY
    1
) AS "t9"
ORDER BY
  "t9"."_fx_block" ASC;
