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
      "t0"."age" IS NULL
    ) AS BIGINT)
  ) AS "n_complete",
  MIN(
    IFF(
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
        "t0"."age" IS NULL
      ),
      CAST("t0"."voted" AS DOUBLE),
      NULL
    )
  ) AS "y_min",
  MAX(
    IFF(
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
        "t0"."age" IS NULL
      ),
      CAST("t0"."voted" AS DOUBLE),
      NULL
    )
  ) AS "y_max",
  MIN(
    IFF(
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
        "t0"."age" IS NULL
      ),
      CAST("t0"."assigned" AS DOUBLE),
      NULL
    )
  ) AS "z_min",
  MAX(
    IFF(
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
        "t0"."age" IS NULL
      ),
      CAST("t0"."assigned" AS DOUBLE),
      NULL
    )
  ) AS "z_max",
  SUM(
    IFF(
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
        "t0"."age" IS NULL
      ),
      CAST(NOT (
        CAST("t0"."assigned" AS DOUBLE) IN (0.0, 1.0)
      ) AS BIGINT),
      NULL
    )
  ) AS "z_bad",
  SUM(CAST("t0"."voted" IS NULL AS BIGINT)) AS "miss0",
  SUM(CAST("t0"."assigned" IS NULL AS BIGINT)) AS "miss1",
  SUM(CAST("t0"."precinct_id" IS NULL AS BIGINT)) AS "miss2",
  SUM(CAST("t0"."age" IS NULL AS BIGINT)) AS "miss3"
FROM "voters" AS "t0";

-- pull: block means
SELECT
  "t1"."_fx_block",
  COUNT(*) AS "_fx_n",
  SUM("t1"."_fx_z") AS "_fx_sum_z",
  AVG("t1"."_fx_y") AS "_fx_y_m",
  AVG("t1"."_fx_z") AS "_fx_z_m",
  AVG("t1"."_fx_x0") AS "_fx_x0_m"
FROM (
  SELECT
    CAST("t0"."voted" AS DOUBLE) AS "_fx_y",
    CAST("t0"."assigned" AS DOUBLE) AS "_fx_z",
    CAST("t0"."age" AS DOUBLE) AS "_fx_x0",
    "t0"."precinct_id" AS "_fx_block"
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
      "t0"."age" IS NULL
    )
) AS "t1"
GROUP BY
  1;

-- pull: cross-products
WITH "t1" AS (
  SELECT
    CAST("t0"."voted" AS DOUBLE) AS "_fx_y",
    CAST("t0"."assigned" AS DOUBLE) AS "_fx_z",
    CAST("t0"."age" AS DOUBLE) AS "_fx_x0",
    "t0"."precinct_id" AS "_fx_block"
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
      "t0"."age" IS NULL
    )
)
SELECT
  SUM("t7"."_fx_y_c" * "t7"."_fx_y_c") AS "cp_0_0",
  SUM("t7"."_fx_y_c" * "t7"."_fx_z_c") AS "cp_0_1",
  SUM("t7"."_fx_y_c" * "t7"."_fx_x0_c") AS "cp_0_2",
  SUM("t7"."_fx_z_c" * "t7"."_fx_z_c") AS "cp_1_1",
  SUM("t7"."_fx_z_c" * "t7"."_fx_x0_c") AS "cp_1_2",
  SUM("t7"."_fx_x0_c" * "t7"."_fx_x0_c") AS "cp_2_2"
FROM (
  SELECT
    "t3"."_fx_block",
    "t6"."_fx_n",
    "t3"."_fx_y" - "t6"."_fx_y_m" AS "_fx_y_c",
    "t3"."_fx_z" - "t6"."_fx_z_m" AS "_fx_z_c",
    "t3"."_fx_x0" - "t6"."_fx_x0_m" AS "_fx_x0_c"
  FROM "t1" AS "t3"
  INNER JOIN (
    SELECT
      "t4".*
      EXCLUDE ("_fx_sum_z")
    FROM (
      SELECT
        "t2"."_fx_block",
        COUNT(*) AS "_fx_n",
        SUM("t2"."_fx_z") AS "_fx_sum_z",
        AVG("t2"."_fx_y") AS "_fx_y_m",
        AVG("t2"."_fx_z") AS "_fx_z_m",
        AVG("t2"."_fx_x0") AS "_fx_x0_m"
      FROM "t1" AS "t2"
      GROUP BY
        1
    ) AS "t4"
  ) AS "t6"
    ON "t3"."_fx_block" = "t6"."_fx_block"
) AS "t7";

-- pull: score cross-products
WITH "t1" AS (
  SELECT
    CAST("t0"."voted" AS DOUBLE) AS "_fx_y",
    CAST("t0"."assigned" AS DOUBLE) AS "_fx_z",
    CAST("t0"."age" AS DOUBLE) AS "_fx_x0",
    "t0"."precinct_id" AS "_fx_block"
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
      "t0"."age" IS NULL
    )
)
SELECT
  SUM("t8"."_fx_w0" * "t8"."_fx_z_c" * "t8"."_fx_z_c") AS "m0_0_0",
  SUM("t8"."_fx_w0" * "t8"."_fx_z_c" * "t8"."_fx_x0_c") AS "m0_0_1",
  SUM("t8"."_fx_w0" * "t8"."_fx_x0_c" * "t8"."_fx_x0_c") AS "m0_1_1"
FROM (
  SELECT
    "t7"."_fx_block",
    "t7"."_fx_n",
    "t7"."_fx_y_c",
    "t7"."_fx_z_c",
    "t7"."_fx_x0_c",
    (
      (
        (
          "t7"."_fx_y_c" - (
            "t7"."_fx_z_c" * <num>
          )
        ) - (
          "t7"."_fx_x0_c" * <num>
        )
      ) * (
        (
          "t7"."_fx_y_c" - (
            "t7"."_fx_z_c" * <num>
          )
        ) - (
          "t7"."_fx_x0_c" * <num>
        )
      )
    ) / (
      1.0 - (
        (
          1.0 / CAST("t7"."_fx_n" AS DOUBLE)
        ) + (
          "t7"."_fx_z_c" * "t7"."_fx_z_c" * <num>
        ) + (
          "t7"."_fx_z_c" * "t7"."_fx_x0_c" * <num>
        ) + (
          "t7"."_fx_x0_c" * "t7"."_fx_z_c" * <num>
        ) + (
          "t7"."_fx_x0_c" * "t7"."_fx_x0_c" * <num>
        )
      )
    ) AS "_fx_w0"
  FROM (
    SELECT
      "t3"."_fx_block",
      "t6"."_fx_n",
      "t3"."_fx_y" - "t6"."_fx_y_m" AS "_fx_y_c",
      "t3"."_fx_z" - "t6"."_fx_z_m" AS "_fx_z_c",
      "t3"."_fx_x0" - "t6"."_fx_x0_m" AS "_fx_x0_c"
    FROM "t1" AS "t3"
    INNER JOIN (
      SELECT
        "t4".*
        EXCLUDE ("_fx_sum_z")
      FROM (
        SELECT
          "t2"."_fx_block",
          COUNT(*) AS "_fx_n",
          SUM("t2"."_fx_z") AS "_fx_sum_z",
          AVG("t2"."_fx_y") AS "_fx_y_m",
          AVG("t2"."_fx_z") AS "_fx_z_m",
          AVG("t2"."_fx_x0") AS "_fx_x0_m"
        FROM "t1" AS "t2"
        GROUP BY
          1
      ) AS "t4"
    ) AS "t6"
      ON "t3"."_fx_block" = "t6"."_fx_block"
  ) AS "t7"
) AS "t8";
