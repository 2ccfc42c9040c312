# SPDX-License-Identifier: MIT
# Packages the pipeline's RTL as a Vitis kernel (.xo). Needs AMD Vivado (part of Vitis); not available in CI.
#   vivado -mode batch -source fpga/vitis/package_xo.tcl -tclargs KERNEL PART OUT.xo WORKDIR
# KERNEL: ht_pipe_kernel (with streams) or ht_pipe_kernel_mm; PART: the card's FPGA part (build.sh reads it from
# the platform with platforminfo); OUT.xo: the object to write; WORKDIR: a scratch folder.
if {[llength $argv] != 4} {
  puts stderr "usage: vivado -mode batch -source package_xo.tcl -tclargs KERNEL PART OUT.xo WORKDIR"
  exit 2
}
lassign $argv kernel part xo work
set here [file dirname [file normalize [info script]]]
set rtl [file normalize [file join $here .. rtl]]
set ip [file join $work ip_$kernel]

create_project -force pack_$kernel [file join $work proj_$kernel] -part $part
add_files -norecurse [list $rtl/ht_pkg.sv $rtl/ht_fold.sv $rtl/ht_tick.sv $rtl/ht_pipe_top.sv \
                           $rtl/ht_wire.sv $rtl/ht_wire_top.sv $rtl/ht_event_ring.sv \
                           $rtl/ht_pipe_kernel.sv $rtl/ht_pipe_kernel_mm.sv $rtl/ht_pipe_kernel_ports.svh \
                           $rtl/ht_pipe_top_ports.svh]
# The shared port lists, `included: headers, not compilation units (and copied into the IP).
set_property file_type {Verilog Header} [get_files $rtl/ht_pipe_kernel_ports.svh]
set_property file_type {Verilog Header} [get_files $rtl/ht_pipe_top_ports.svh]
set_property top $kernel [current_fileset]
update_compile_order -fileset sources_1

# Package the project as an IP, then mark it as an RTL kernel with ap_clk driving every interface.
ipx::package_project -root_dir $ip -vendor hedgetrig.org -library kernel -taxonomy /KernelIP -import_files \
  -set_current false
ipx::unload_core [file join $ip component.xml]
ipx::edit_ip_in_project -upgrade true -name edit_$kernel -directory $ip [file join $ip component.xml]
set core [ipx::current_core]
set_property core_revision 1 $core
foreach bus {s_axi_control m_axi_gmem m_axi_ring s_axis_rx s_axis_tick m_axis_event} {
  if {[llength [ipx::get_bus_interfaces $bus -of_objects $core]] > 0} {
    ipx::associate_bus_interfaces -busif $bus -clock ap_clk $core
  }
}
set_property sdx_kernel true $core
set_property sdx_kernel_type rtl $core
set_property ipi_drc {ignore_freq_hz true} $core
ipx::create_xgui_files $core
ipx::update_checksums $core
ipx::check_integrity -kernel $core
ipx::save_core $core
close_project -delete

package_xo -force -xo_path $xo -kernel_name $kernel -ip_directory $ip -kernel_xml [file join $here $kernel.xml]
