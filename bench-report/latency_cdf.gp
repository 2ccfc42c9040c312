set terminal pngcairo size 1200,700 font 'sans,10' noenhanced
set output 'latency_cdf.png'
set logscale x
set grid
set key bottom right
set xlabel 'latency (ns)'
set ylabel 'fraction of ticks at or below'
set yrange [0:1]
set title 'hedgetrig latency CDFs (software mode, in-process)'
plot 'cdf_capture_armed_tick_to_order.dat' using 1:2 with steps lw 2 title 'capture_armed: tick->order', 'cdf_capture_armed_tick_to_pipe_out.dat' using 1:2 with steps lw 2 title 'capture_armed: tick->pipe_out', 'cdf_capture_unarmed_tick_to_order.dat' using 1:2 with steps lw 2 title 'capture_unarmed: tick->order', 'cdf_capture_unarmed_tick_to_pipe_out.dat' using 1:2 with steps lw 2 title 'capture_unarmed: tick->pipe_out', 'cdf_synthetic_armed_tick_to_order.dat' using 1:2 with steps lw 2 title 'synthetic_armed: tick->order', 'cdf_synthetic_armed_tick_to_pipe_out.dat' using 1:2 with steps lw 2 title 'synthetic_armed: tick->pipe_out', 'cdf_synthetic_unarmed_tick_to_order.dat' using 1:2 with steps lw 2 title 'synthetic_unarmed: tick->order', 'cdf_synthetic_unarmed_tick_to_pipe_out.dat' using 1:2 with steps lw 2 title 'synthetic_unarmed: tick->pipe_out'
