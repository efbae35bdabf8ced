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
      `t0`.`precinct_id` IS NULL
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
        `t0`.`precinct_id` IS NULL
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
        `t0`.`precinct_id` IS NULL
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
        `t0`.`precinct_id` IS NULL
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
        `t0`.`precinct_id` IS NULL
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
        `t0`.`precinct_id` IS NULL
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
        `t0`.`precinct_id` IS NULL
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
  SUM(CAST(`t0`.`precinct_id` IS NULL AS INT64)) AS `miss2`,
  SUM(CAST(`t0`.`household_id` IS NULL AS INT64)) AS `miss3`
FROM `voters` AS `t0`;

-- pull: cluster totals
SELECT
  *
FROM (
  SELECT
    `t1`.`_fx_cluster`,
    COUNT(*) AS `n`,
    SUM(`t1`.`_fx_y`) AS `total`,
    SUM(`t1`.`_fx_y` * `t1`.`_fx_y`) AS `total_sq`,
    MIN(`t1`.`_fx_z`) AS `z_min`,
    MAX(`t1`.`_fx_z`) AS `z_max`,
    MIN(`t1`.`_fx_block`) AS `b_min`,
    MAX(`t1`.`_fx_block`) AS `b_max`
  FROM (
    SELECT
      CAST(`t0`.`voted` AS FLOAT64) AS `_fx_y`,
      CAST(`t0`.`assigned` AS FLOAT64) AS `_fx_z`,
      `t0`.`precinct_id` AS `_fx_block`,
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
        `t0`.`precinct_id` IS NULL
      )
      AND NOT (
        `t0`.`household_id` IS NULL
      )
  ) AS `t1`
  GROUP BY
    1
) AS `t2`
ORDER BY
  `t2`.`_fx_cluster` ASC NULLS LAST;
