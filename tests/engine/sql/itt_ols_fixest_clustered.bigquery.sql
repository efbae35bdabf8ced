-- pull: checks
SELECT
  COUNT(*) AS `n_total`,
  SUM(
    CAST(TRUE
    AND NOT (
      `t0`.`voted` IS NULL
    )
    AND NOT (
      `t0`.`assigned` IS NULL
    )
    AND NOT (
      `t0`.`household_id` IS NULL
    ) AS INT64)
  ) AS `n_complete`,
  MIN(
    IF(
      TRUE
      AND NOT (
        `t0`.`voted` IS NULL
      )
      AND NOT (
        `t0`.`assigned` IS NULL
      )
      AND NOT (
        `t0`.`household_id` IS NULL
      ),
      CAST(`t0`.`voted` AS FLOAT64),
      NULL
    )
  ) AS `y_min`,
  MAX(
    IF(
      TRUE
      AND NOT (
        `t0`.`voted` IS NULL
      )
      AND NOT (
        `t0`.`assigned` IS NULL
      )
      AND NOT (
        `t0`.`household_id` IS NULL
      ),
      CAST(`t0`.`voted` AS FLOAT64),
      NULL
    )
  ) AS `y_max`,
  MIN(
    IF(
      TRUE
      AND NOT (
        `t0`.`voted` IS NULL
      )
      AND NOT (
        `t0`.`assigned` IS NULL
      )
      AND NOT (
        `t0`.`household_id` IS NULL
      ),
      CAST(`t0`.`assigned` AS FLOAT64),
      NULL
    )
  ) AS `z_min`,
  MAX(
    IF(
      TRUE
      AND NOT (
        `t0`.`voted` IS NULL
      )
      AND NOT (
        `t0`.`assigned` IS NULL
      )
      AND NOT (
        `t0`.`household_id` IS NULL
      ),
      CAST(`t0`.`assigned` AS FLOAT64),
      NULL
    )
  ) AS `z_max`,
  SUM(
    IF(
      TRUE
      AND NOT (
        `t0`.`voted` IS NULL
      )
      AND NOT (
        `t0`.`assigned` IS NULL
      )
      AND NOT (
        `t0`.`household_id` IS NULL
      ),
      CAST(NOT (
        CAST(`t0`.`assigned` AS FLOAT64) IN (0.0, 1.0)
      ) AS INT64),
      NULL
    )
  ) AS `z_bad`,
  COUNT(
    DISTINCT IF(
      TRUE
      AND NOT (
        `t0`.`voted` IS NULL
      )
      AND NOT (
        `t0`.`assigned` IS NULL
      )
      AND NOT (
        `t0`.`household_id` IS NULL
      ),
      `t0`.`household_id`,
      NULL
    )
  ) AS `n_clusters`,
  SUM(CAST(`t0`.`voted` IS NULL AS INT64)) AS `miss0`,
  SUM(CAST(`t0`.`assigned` IS NULL AS INT64)) AS `miss1`,
  SUM(CAST(`t0`.`household_id` IS NULL AS INT64)) AS `miss2`
FROM `voters` AS `t0`;

-- pull: block means
SELECT
  `t1`.`_fx_block`,
  COUNT(*) AS `_fx_n`,
  SUM(`t1`.`_fx_z`) AS `_fx_sum_z`,
  AVG(`t1`.`_fx_y`) AS `_fx_y_m`,
  AVG(`t1`.`_fx_z`) AS `_fx_z_m`
FROM (
  SELECT
    CAST(`t0`.`voted` AS FLOAT64) AS `_fx_y`,
    CAST(`t0`.`assigned` AS FLOAT64) AS `_fx_z`,
    0 AS `_fx_block`,
    `t0`.`household_id` AS `_fx_cluster`
  FROM `voters` AS `t0`
  WHERE
    TRUE
    AND NOT (
      `t0`.`voted` IS NULL
    )
    AND NOT (
      `t0`.`assigned` IS NULL
    )
    AND NOT (
      `t0`.`household_id` IS NULL
    )
) AS `t1`
GROUP BY
  1;

-- pull: cross-products
WITH `t1` AS (
  SELECT
    CAST(`t0`.`voted` AS FLOAT64) AS `_fx_y`,
    CAST(`t0`.`assigned` AS FLOAT64) AS `_fx_z`,
    0 AS `_fx_block`,
    `t0`.`household_id` AS `_fx_cluster`
  FROM `voters` AS `t0`
  WHERE
    TRUE
    AND NOT (
      `t0`.`voted` IS NULL
    )
    AND NOT (
      `t0`.`assigned` IS NULL
    )
    AND NOT (
      `t0`.`household_id` IS NULL
    )
)
SELECT
  SUM(`t7`.`_fx_y_c` * `t7`.`_fx_y_c`) AS `cp_0_0`,
  SUM(`t7`.`_fx_y_c` * `t7`.`_fx_z_c`) AS `cp_0_1`,
  SUM(`t7`.`_fx_z_c` * `t7`.`_fx_z_c`) AS `cp_1_1`
FROM (
  SELECT
    `t3`.`_fx_block`,
    `t6`.`_fx_n`,
    `t3`.`_fx_cluster`,
    `t3`.`_fx_y` - `t6`.`_fx_y_m` AS `_fx_y_c`,
    `t3`.`_fx_z` - `t6`.`_fx_z_m` AS `_fx_z_c`,
    `t3`.`_fx_z` AS `_fx_zraw`
  FROM `t1` AS `t3`
  INNER JOIN (
    SELECT
      `t4`.*
      EXCEPT (`_fx_sum_z`)
    FROM (
      SELECT
        `t2`.`_fx_block`,
        COUNT(*) AS `_fx_n`,
        SUM(`t2`.`_fx_z`) AS `_fx_sum_z`,
        AVG(`t2`.`_fx_y`) AS `_fx_y_m`,
        AVG(`t2`.`_fx_z`) AS `_fx_z_m`
      FROM `t1` AS `t2`
      GROUP BY
        1
    ) AS `t4`
  ) AS `t6`
    ON `t3`.`_fx_block` = `t6`.`_fx_block`
) AS `t7`;

-- pull: cluster score cross-products
WITH `t1` AS (
  SELECT
    CAST(`t0`.`voted` AS FLOAT64) AS `_fx_y`,
    CAST(`t0`.`assigned` AS FLOAT64) AS `_fx_z`,
    0 AS `_fx_block`,
    `t0`.`household_id` AS `_fx_cluster`
  FROM `voters` AS `t0`
  WHERE
    TRUE
    AND NOT (
      `t0`.`voted` IS NULL
    )
    AND NOT (
      `t0`.`assigned` IS NULL
    )
    AND NOT (
      `t0`.`household_id` IS NULL
    )
)
SELECT
  COUNT(*) AS `_fx_ncl`,
  SUM(CAST(`t9`.`_z_min` <> `t9`.`_z_max` AS INT64)) AS `_mixed`,
  SUM(CAST(`t9`.`_b_min` <> `t9`.`_b_max` AS INT64)) AS `_spans`,
  SUM(`t9`.`u0_0` * `t9`.`u0_0`) AS `m0_0_0`
FROM (
  SELECT
    `t8`.`_fx_cluster`,
    SUM(`t8`.`_fx_e0` * `t8`.`_fx_z_c`) AS `u0_0`,
    MIN(`t8`.`_fx_zraw`) AS `_z_min`,
    MAX(`t8`.`_fx_zraw`) AS `_z_max`,
    MIN(`t8`.`_fx_block`) AS `_b_min`,
    MAX(`t8`.`_fx_block`) AS `_b_max`
  FROM (
    SELECT
      `t7`.`_fx_block`,
      `t7`.`_fx_n`,
      `t7`.`_fx_cluster`,
      `t7`.`_fx_y_c`,
      `t7`.`_fx_z_c`,
      `t7`.`_fx_zraw`,
      `t7`.`_fx_y_c` - (
        `t7`.`_fx_z_c` * <num>
      ) AS `_fx_e0`
    FROM (
      SELECT
        `t3`.`_fx_block`,
        `t6`.`_fx_n`,
        `t3`.`_fx_cluster`,
        `t3`.`_fx_y` - `t6`.`_fx_y_m` AS `_fx_y_c`,
        `t3`.`_fx_z` - `t6`.`_fx_z_m` AS `_fx_z_c`,
        `t3`.`_fx_z` AS `_fx_zraw`
      FROM `t1` AS `t3`
      INNER JOIN (
        SELECT
          `t4`.*
          EXCEPT (`_fx_sum_z`)
        FROM (
          SELECT
            `t2`.`_fx_block`,
            COUNT(*) AS `_fx_n`,
            SUM(`t2`.`_fx_z`) AS `_fx_sum_z`,
            AVG(`t2`.`_fx_y`) AS `_fx_y_m`,
            AVG(`t2`.`_fx_z`) AS `_fx_z_m`
          FROM `t1` AS `t2`
          GROUP BY
            1
        ) AS `t4`
      ) AS `t6`
        ON `t3`.`_fx_block` = `t6`.`_fx_block`
    ) AS `t7`
  ) AS `t8`
  GROUP BY
    1
) AS `t9`;
