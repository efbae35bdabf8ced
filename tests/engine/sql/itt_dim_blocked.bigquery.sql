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
      ),
      CAST(NOT (
        CAST(`t0`.`assigned` AS FLOAT64) IN (0.0, 1.0)
      ) AS INT64),
      NULL
    )
  ) AS `z_bad`,
  SUM(CAST(`t0`.`voted` IS NULL AS INT64)) AS `miss0`,
  SUM(CAST(`t0`.`assigned` IS NULL AS INT64)) AS `miss1`,
  SUM(CAST(`t0`.`precinct_id` IS NULL AS INT64)) AS `miss2`
FROM `voters` AS `t0`;

-- pull: block x arm totals
SELECT
  *
FROM (
  SELECT
    `t1`.`_fx_block`,
    `t1`.`_fx_z`,
    COUNT(*) AS `n`,
    SUM(`t1`.`_fx_y`) AS `total`,
    SUM(`t1`.`_fx_y` * `t1`.`_fx_y`) AS `total_sq`
  FROM (
    SELECT
      CAST(`t0`.`voted` AS FLOAT64) AS `_fx_y`,
      CAST(`t0`.`assigned` AS FLOAT64) AS `_fx_z`,
      `t0`.`precinct_id` AS `_fx_block`
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
  ) AS `t1`
  GROUP BY
    1,
    2
) AS `t2`
ORDER BY
  `t2`.`_fx_block` ASC NULLS LAST,
  `t2`.`_fx_z` ASC NULLS LAST;
