-- pull: units
SELECT
  COUNT(DISTINCT `t1`.`_fx_unit`) AS `n`
FROM (
  SELECT
    `t0`.`unit` AS `_fx_unit`,
    `t0`.`year` AS `_fx_time`,
    IF(IS_NAN(`t0`.`y`), NULL, `t0`.`y`) AS `_fx_y`,
    `t0`.`first` AS `_fx_cohort`
  FROM `panel` AS `t0`
) AS `t1`;

-- pull: periods
SELECT DISTINCT
  `t0`.`year` AS `_p`
FROM `panel` AS `t0`
WHERE
  `t0`.`year` IS NOT NULL;

-- pull: one row per unit
SELECT
  `t1`.`_fx_unit`,
  MIN(`t1`.`_fx_cohort`) AS `_gmin`,
  MAX(`t1`.`_fx_cohort`) AS `_gmax`,
  SUM(CAST(`t1`.`_fx_cohort` IS NULL AS INT64)) AS `_gnull`,
  SUM(CAST(`t1`.`_fx_time` = 2020 AS INT64)) AS `_n0`,
  MAX(IF(`t1`.`_fx_time` = 2020, `t1`.`_fx_y`, NULL)) AS `_y0`,
  SUM(CAST(`t1`.`_fx_time` = 2021 AS INT64)) AS `_n1`,
  MAX(IF(`t1`.`_fx_time` = 2021, `t1`.`_fx_y`, NULL)) AS `_y1`,
  SUM(CAST(`t1`.`_fx_time` = 2022 AS INT64)) AS `_n2`,
  MAX(IF(`t1`.`_fx_time` = 2022, `t1`.`_fx_y`, NULL)) AS `_y2`,
  SUM(CAST(`t1`.`_fx_time` = 2023 AS INT64)) AS `_n3`,
  MAX(IF(`t1`.`_fx_time` = 2023, `t1`.`_fx_y`, NULL)) AS `_y3`
FROM (
  SELECT
    `t0`.`unit` AS `_fx_unit`,
    `t0`.`year` AS `_fx_time`,
    IF(IS_NAN(`t0`.`y`), NULL, `t0`.`y`) AS `_fx_y`,
    `t0`.`first` AS `_fx_cohort`
  FROM `panel` AS `t0`
) AS `t1`
GROUP BY
  1;
