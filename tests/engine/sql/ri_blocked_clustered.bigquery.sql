-- pull: checks
SELECT
  COUNT(*) AS `n_total`,
  SUM(
    CAST(TRUE
    AND NOT (
      `t1`.`_fx_y0` IS NULL
    )
    AND NOT (
      `t1`.`assigned` IS NULL
    )
    AND NOT (
      `t1`.`precinct_id` IS NULL
    )
    AND NOT (
      `t1`.`household_id` IS NULL
    ) AS INT64)
  ) AS `n_complete`,
  MIN(
    IF(
      TRUE
      AND NOT (
        `t1`.`_fx_y0` IS NULL
      )
      AND NOT (
        `t1`.`assigned` IS NULL
      )
      AND NOT (
        `t1`.`precinct_id` IS NULL
      )
      AND NOT (
        `t1`.`household_id` IS NULL
      ),
      CAST(`t1`.`_fx_y0` AS FLOAT64),
      NULL
    )
  ) AS `y_min`,
  MAX(
    IF(
      TRUE
      AND NOT (
        `t1`.`_fx_y0` IS NULL
      )
      AND NOT (
        `t1`.`assigned` IS NULL
      )
      AND NOT (
        `t1`.`precinct_id` IS NULL
      )
      AND NOT (
        `t1`.`household_id` IS NULL
      ),
      CAST(`t1`.`_fx_y0` AS FLOAT64),
      NULL
    )
  ) AS `y_max`,
  MIN(
    IF(
      TRUE
      AND NOT (
        `t1`.`_fx_y0` IS NULL
      )
      AND NOT (
        `t1`.`assigned` IS NULL
      )
      AND NOT (
        `t1`.`precinct_id` IS NULL
      )
      AND NOT (
        `t1`.`household_id` IS NULL
      ),
      CAST(`t1`.`assigned` AS FLOAT64),
      NULL
    )
  ) AS `z_min`,
  MAX(
    IF(
      TRUE
      AND NOT (
        `t1`.`_fx_y0` IS NULL
      )
      AND NOT (
        `t1`.`assigned` IS NULL
      )
      AND NOT (
        `t1`.`precinct_id` IS NULL
      )
      AND NOT (
        `t1`.`household_id` IS NULL
      ),
      CAST(`t1`.`assigned` AS FLOAT64),
      NULL
    )
  ) AS `z_max`,
  SUM(
    IF(
      TRUE
      AND NOT (
        `t1`.`_fx_y0` IS NULL
      )
      AND NOT (
        `t1`.`assigned` IS NULL
      )
      AND NOT (
        `t1`.`precinct_id` IS NULL
      )
      AND NOT (
        `t1`.`household_id` IS NULL
      ),
      CAST(NOT (
        CAST(`t1`.`assigned` AS FLOAT64) IN (0.0, 1.0)
      ) AS INT64),
      NULL
    )
  ) AS `z_bad`,
  COUNT(
    DISTINCT IF(
      TRUE
      AND NOT (
        `t1`.`_fx_y0` IS NULL
      )
      AND NOT (
        `t1`.`assigned` IS NULL
      )
      AND NOT (
        `t1`.`precinct_id` IS NULL
      )
      AND NOT (
        `t1`.`household_id` IS NULL
      ),
      `t1`.`household_id`,
      NULL
    )
  ) AS `n_clusters`,
  SUM(CAST(`t1`.`_fx_y0` IS NULL AS INT64)) AS `miss0`,
  SUM(CAST(`t1`.`assigned` IS NULL AS INT64)) AS `miss1`,
  SUM(CAST(`t1`.`precinct_id` IS NULL AS INT64)) AS `miss2`,
  SUM(CAST(`t1`.`household_id` IS NULL AS INT64)) AS `miss3`
FROM (
  SELECT
    `t0`.`voter_id`,
    `t0`.`household_id`,
    `t0`.`precinct_id`,
    `t0`.`city`,
    `t0`.`assigned`,
    `t0`.`attempted`,
    `t0`.`contacted`,
    `t0`.`voted`,
    `t0`.`registered`,
    `t0`.`registered_after`,
    `t0`.`voted_2016`,
    `t0`.`voted_2018`,
    `t0`.`voted_2020`,
    `t0`.`age`,
    `t0`.`female`,
    `t0`.`propensity_band`,
    `t0`.`weight`,
    IF(COALESCE(NOT (
      `t0`.`voted` IS NULL
    ), FALSE), `t0`.`voted`, 0) AS `_fx_y0`,
    CAST(COALESCE(NOT (
      `t0`.`voted` IS NULL
    ), FALSE) AS INT64) AS `_fx_ok0`
  FROM `voters` AS `t0`
) AS `t1`;

-- pull: RI cluster totals
SELECT
  *
FROM (
  SELECT
    `t1`.`_fx_cluster`,
    COUNT(*) AS `_fx_rows`,
    ieee_divide(SUM(`t1`.`_fx_y`), SUM(`t1`.`_fx_ok0`)) AS `_fx_m0`,
    SUM(`t1`.`_fx_ok0`) AS `_fx_n0`,
    MIN(`t1`.`_fx_z`) AS `_z_min`,
    MAX(`t1`.`_fx_z`) AS `_z_max`,
    MIN(`t1`.`_fx_block`) AS `_b_min`,
    MAX(`t1`.`_fx_block`) AS `_b_max`
  FROM (
    SELECT
      CAST(IF(COALESCE(NOT (
        `t0`.`voted` IS NULL
      ), FALSE), `t0`.`voted`, 0) AS FLOAT64) AS `_fx_y`,
      CAST(`t0`.`assigned` AS FLOAT64) AS `_fx_z`,
      `t0`.`precinct_id` AS `_fx_block`,
      `t0`.`household_id` AS `_fx_cluster`,
      CAST(COALESCE(NOT (
        `t0`.`voted` IS NULL
      ), FALSE) AS INT64) AS `_fx_ok0`
    FROM `voters` AS `t0`
    WHERE
      TRUE
      AND NOT (
        IF(COALESCE(NOT (
          `t0`.`voted` IS NULL
        ), FALSE), `t0`.`voted`, 0) IS NULL
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
