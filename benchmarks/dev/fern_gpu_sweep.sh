#!/usr/bin/env bash
# Development sweeps of fern from identity at 1/8 on one GPU: several configurations at once (each process
# is small next to the GPU), development seed 1, a fixed wall-clock budget each (a timed probe sets the
# step count). Usage: benchmarks/dev/fern_gpu_sweep.sh DATA_DIR OUT_DIR MINUTES [1|2]
set -u
DATA=$1; OUT=$2; M=$3; SET=${4:-1}
P="python3 benchmarks/dev/fern_identity.py --data $DATA --factor 8 --device cuda --seed 1 --every 500 --minutes $M"
SUITE="--rays 1024 --samples 64 --lr-field 1e-3 --width 128 --depth 4 --frequencies 8"
BARF="--rays 2048 --samples 128 --lr-field 1e-3 --width 256 --depth 8 --skip 4 --frequencies 10 --lr-pose-end 1e-5"
if [ "$SET" = 1 ]; then
  $P $SUITE --tag se3_suite > $OUT/se3_suite.log 2>&1 &
  $P $SUITE --rays 4096 --tag se3_suite_rays4096 > $OUT/se3_rays4096.log 2>&1 &
  $P $SUITE --model warp --tag warp_suite > $OUT/warp_suite.log 2>&1 &
  $P $BARF --tag se3_barf > $OUT/se3_barf.log 2>&1 &
  $P $BARF --near 1 --far 1000 --tag se3_barf_far > $OUT/se3_barf_far.log 2>&1 &
  $P $SUITE --lr-pose 1e-3 --lr-pose-end 1e-5 --tag se3_suite_lrpose1e-3 > $OUT/se3_lrpose.log 2>&1 &
else
  $P $SUITE --init gt --warmup 500 --tag se3_suite_from_gt_warm500 > $OUT/se3_from_gt.log 2>&1 &
  $P $BARF --lr-pose 1e-3 --tag se3_barf_lrpose1e-3 > $OUT/se3_barf_lrpose.log 2>&1 &
  $P $SUITE --lr-field 3e-4 --lr-field-end 3e-5 --tag se3_suite_lrfield3e-4 > $OUT/se3_lrfield.log 2>&1 &
  $P $SUITE --model warp --lr-pose 1e-3 --lr-pose-end 1e-5 --tag warp_suite_lrpose1e-3 > $OUT/warp_lrpose.log 2>&1 &
fi
wait
grep -h '"tag"' $OUT/*.log > $OUT/fern_sweep$SET.jsonl; tar czf $OUT/sweep${SET}_logs.tgz -C $OUT $(cd $OUT && ls *.log) && rm $OUT/*.log
