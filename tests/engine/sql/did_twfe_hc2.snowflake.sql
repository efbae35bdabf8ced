-- pull: checks
SELECT
  COUNT(*) AS "n_total",
  SUM(
    CAST(TRUE
    AND NOT (
      (
        "t0"."y" IS NULL
      ) OR (
        "t0"."y" = CAST('NaN' AS DOUBLE)
      )
    )
    AND NOT (
      "t0"."unit" IS NULL
    )
    AND NOT (
      "t0"."year" IS NULL
    )
    AND NOT (
      "t0"."d" IS NULL
    ) AS BIGINT)
  ) AS "n_complete",
  SUM(
    IFF(
      TRUE
      AND NOT (
        (
          "t0"."y" IS NULL
        ) OR (
          "t0"."y" = CAST('NaN' AS DOUBLE)
        )
      )
      AND NOT (
        "t0"."unit" IS NULL
      )
      AND NOT (
        "t0"."year" IS NULL
      )
      AND NOT (
        "t0"."d" IS NULL
      ),
      CAST(NOT (
        CAST("t0"."d" AS DOUBLE) IN (0.0, 1.0)
      ) AS BIGINT),
      NULL
    )
  ) AS "d_bad",
  SUM(CAST((
    "t0"."y" IS NULL
  ) OR (
    "t0"."y" = CAST('NaN' AS DOUBLE)
  ) AS BIGINT)) AS "miss0",
  SUM(CAST("t0"."unit" IS NULL AS BIGINT)) AS "miss1",
  SUM(CAST("t0"."year" IS NULL AS BIGINT)) AS "miss2",
  SUM(CAST("t0"."d" IS NULL AS BIGINT)) AS "miss3"
FROM "panel" AS "t0";

-- pull: panel cells
SELECT
  COUNT(*) AS "n_cells",
  MAX("t2"."_fx_c") AS "max_c",
  COUNT(DISTINCT "t2"."_fx_unit") AS "n_units",
  COUNT(DISTINCT "t2"."_fx_time") AS "n_periods"
FROM (
  SELECT
    "t1"."_fx_unit",
    "t1"."_fx_time",
    COUNT(*) AS "_fx_c"
  FROM (
    SELECT
      "t0"."y" AS "_fx_y",
      CAST("t0"."d" AS DOUBLE) AS "_fx_d",
      "t0"."unit" AS "_fx_unit",
      "t0"."year" AS "_fx_time"
    FROM "panel" AS "t0"
    WHERE
      TRUE
      AND NOT (
        (
          "t0"."y" IS NULL
        ) OR (
          "t0"."y" = CAST('NaN' AS DOUBLE)
        )
      )
      AND NOT (
        "t0"."unit" IS NULL
      )
      AND NOT (
        "t0"."year" IS NULL
      )
      AND NOT (
        "t0"."d" IS NULL
      )
  ) AS "t1"
  GROUP BY
    1,
    2
) AS "t2";

-- pull: absorbing check
SELECT
  COUNT(*) AS "rows",
  COUNT(DISTINCT "t7"."_fx_unit") AS "units"
FROM (
  SELECT
    *
  FROM (
    SELECT
      "t3"."_fx_y",
      "t3"."_fx_d",
      "t3"."_fx_unit",
      "t3"."_fx_time",
      "t5"."_fx_first"
    FROM (
      SELECT
        "t0"."y" AS "_fx_y",
        CAST("t0"."d" AS DOUBLE) AS "_fx_d",
        "t0"."unit" AS "_fx_unit",
        "t0"."year" AS "_fx_time"
      FROM "panel" AS "t0"
      WHERE
        TRUE
        AND NOT (
          (
            "t0"."y" IS NULL
          ) OR (
            "t0"."y" = CAST('NaN' AS DOUBLE)
          )
        )
        AND NOT (
          "t0"."unit" IS NULL
        )
        AND NOT (
          "t0"."year" IS NULL
        )
        AND NOT (
          "t0"."d" IS NULL
        )
    ) AS "t3"
    INNER JOIN (
      SELECT
        "t2"."_fx_unit",
        MIN("t2"."_fx_time") AS "_fx_first"
      FROM (
        SELECT
          "t0"."y" AS "_fx_y",
          CAST("t0"."d" AS DOUBLE) AS "_fx_d",
          "t0"."unit" AS "_fx_unit",
          "t0"."year" AS "_fx_time"
        FROM "panel" AS "t0"
        WHERE
          TRUE
          AND NOT (
            (
              "t0"."y" IS NULL
            ) OR (
              "t0"."y" = CAST('NaN' AS DOUBLE)
            )
          )
          AND NOT (
            "t0"."unit" IS NULL
          )
          AND NOT (
            "t0"."year" IS NULL
          )
          AND NOT (
            "t0"."d" IS NULL
          )
          AND CAST("t0"."d" AS DOUBLE) = 1.0
      ) AS "t2"
      GROUP BY
        1
    ) AS "t5"
      ON "t3"."_fx_unit" = "t5"."_fx_unit"
  ) AS "t6"
  WHERE
    "t6"."_fx_d" = 0.0 AND "t6"."_fx_time" > "t6"."_fx_first"
) AS "t7";

-- pull: cross-products
WITH "t1" AS (
  SELECT
    "t0"."y" AS "_fx_y",
    CAST("t0"."d" AS DOUBLE) AS "_fx_d",
    "t0"."unit" AS "_fx_unit",
    "t0"."year" AS "_fx_time"
  FROM "panel" AS "t0"
  WHERE
    TRUE
    AND NOT (
      (
        "t0"."y" IS NULL
      ) OR (
        "t0"."y" = CAST('NaN' AS DOUBLE)
      )
    )
    AND NOT (
      "t0"."unit" IS NULL
    )
    AND NOT (
      "t0"."year" IS NULL
    )
    AND NOT (
      "t0"."d" IS NULL
    )
)
SELECT
  SUM("t10"."_fx_y_c" * "t10"."_fx_y_c") AS "cp_0_0",
  SUM("t10"."_fx_y_c" * "t10"."_fx_d_c") AS "cp_0_1",
  SUM("t10"."_fx_d_c" * "t10"."_fx_d_c") AS "cp_1_1"
FROM (
  SELECT
    "t3"."_fx_unit",
    "t3"."_fx_time",
    (
      (
        "t3"."_fx_y" - "t7"."_fx_y_u"
      ) - "t8"."_fx_y_t"
    ) + "t9"."_fx_y_g" AS "_fx_y_c",
    (
      (
        "t3"."_fx_d" - "t7"."_fx_d_u"
      ) - "t8"."_fx_d_t"
    ) + "t9"."_fx_d_g" AS "_fx_d_c"
  FROM "t1" AS "t3"
  INNER JOIN (
    SELECT
      "t2"."_fx_unit",
      AVG("t2"."_fx_y") AS "_fx_y_u",
      AVG("t2"."_fx_d") AS "_fx_d_u"
    FROM "t1" AS "t2"
    GROUP BY
      1
  ) AS "t7"
    ON "t3"."_fx_unit" = "t7"."_fx_unit"
  INNER JOIN (
    SELECT
      "t2"."_fx_time",
      AVG("t2"."_fx_y") AS "_fx_y_t",
      AVG("t2"."_fx_d") AS "_fx_d_t"
    FROM "t1" AS "t2"
    GROUP BY
      1
  ) AS "t8"
    ON "t3"."_fx_time" = "t8"."_fx_time"
  CROSS JOIN (
    SELECT
      AVG("t2"."_fx_y") AS "_fx_y_g",
      AVG("t2"."_fx_d") AS "_fx_d_g"
    FROM "t1" AS "t2"
  ) AS "t9"
) AS "t10";

-- pull: raw norms
SELECT
  SUM("t1"."_fx_d" * "t1"."_fx_d") AS "ss_0"
FROM (
  SELECT
    "t0"."y" AS "_fx_y",
    CAST("t0"."d" AS DOUBLE) AS "_fx_d",
    "t0"."unit" AS "_fx_unit",
    "t0"."year" AS "_fx_time"
  FROM "panel" AS "t0"
  WHERE
    TRUE
    AND NOT (
      (
        "t0"."y" IS NULL
      ) OR (
        "t0"."y" = CAST('NaN' AS DOUBLE)
      )
    )
    AND NOT (
      "t0"."unit" IS NULL
    )
    AND NOT (
      "t0"."year" IS NULL
    )
    AND NOT (
      "t0"."d" IS NULL
    )
) AS "t1";

-- pull: score cross-products
WITH "t1" AS (
  SELECT
    "t0"."y" AS "_fx_y",
    CAST("t0"."d" AS DOUBLE) AS "_fx_d",
    "t0"."unit" AS "_fx_unit",
    "t0"."year" AS "_fx_time"
  FROM "panel" AS "t0"
  WHERE
    TRUE
    AND NOT (
      (
        "t0"."y" IS NULL
      ) OR (
        "t0"."y" = CAST('NaN' AS DOUBLE)
      )
    )
    AND NOT (
      "t0"."unit" IS NULL
    )
    AND NOT (
      "t0"."year" IS NULL
    )
    AND NOT (
      "t0"."d" IS NULL
    )
)
SELECT
  SUM(
    CAST((
      1.0 - (
        0.3125 + (
          "t11"."_fx_d_c" * "t11"."_fx_d_c" * <num>
        )
      )
    ) <= <num> AS BIGINT)
  ) AS "_fx_lev1",
  SUM("t11"."_fx_w" * "t11"."_fx_d_c" * "t11"."_fx_d_c") AS "m_0_0"
FROM (
  SELECT
    "t10"."_fx_unit",
    "t10"."_fx_time",
    "t10"."_fx_y_c",
    "t10"."_fx_d_c",
    (
      (
        "t10"."_fx_y_c" - (
          "t10"."_fx_d_c" * <num>
        )
      ) * (
        "t10"."_fx_y_c" - (
          "t10"."_fx_d_c" * <num>
        )
      )
    ) / (
      1.0 - (
        0.3125 + (
          "t10"."_fx_d_c" * "t10"."_fx_d_c" * <num>
        )
      )
    ) AS "_fx_w"
  FROM (
    SELECT
      "t3"."_fx_unit",
      "t3"."_fx_time",
      (
        (
          "t3"."_fx_y" - "t7"."_fx_y_u"
        ) - "t8"."_fx_y_t"
      ) + "t9"."_fx_y_g" AS "_fx_y_c",
      (
        (
          "t3"."_fx_d" - "t7"."_fx_d_u"
        ) - "t8"."_fx_d_t"
      ) + "t9"."_fx_d_g" AS "_fx_d_c"
    FROM "t1" AS "t3"
    INNER JOIN (
      SELECT
        "t2"."_fx_unit",
        AVG("t2"."_fx_y") AS "_fx_y_u",
        AVG("t2"."_fx_d") AS "_fx_d_u"
      FROM "t1" AS "t2"
      GROUP BY
        1
    ) AS "t7"
      ON "t3"."_fx_unit" = "t7"."_fx_unit"
    INNER JOIN (
      SELECT
        "t2"."_fx_time",
        AVG("t2"."_fx_y") AS "_fx_y_t",
        AVG("t2"."_fx_d") AS "_fx_d_t"
      FROM "t1" AS "t2"
      GROUP BY
        1
    ) AS "t8"
      ON "t3"."_fx_time" = "t8"."_fx_time"
    CROSS JOIN (
      SELECT
        AVG("t2"."_fx_y") AS "_fx_y_g",
        AVG("t2"."_fx_d") AS "_fx_d_g"
      FROM "t1" AS "t2"
    ) AS "t9"
  ) AS "t10"
) AS "t11";
