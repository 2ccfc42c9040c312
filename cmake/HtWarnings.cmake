# SPDX-License-Identifier: MIT
# Warnings on our own targets only (never on generated or third-party code). They are errors when HT_WERROR is
# ON, as the presets and CI set it; a plain build only warns, so a newer compiler or another optimisation level
# cannot stop a user's build.
option(HT_WERROR "treat warnings in our own code as errors (the presets and CI turn it on)" OFF)
function(ht_warnings target)
  get_target_property(_type ${target} TYPE)
  if(_type STREQUAL "INTERFACE_LIBRARY")
    return()
  endif()
  target_compile_options(${target} PRIVATE
    $<$<COMPILE_LANGUAGE:C>:-Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes>
    $<$<COMPILE_LANGUAGE:CXX>:-Wall -Wextra>)
  if(HT_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()

# A static library of ours: public headers in include/, warnings on.
function(ht_library name)
  cmake_parse_arguments(A "" "" "SOURCES;LIBS;PRIVATE_LIBS" ${ARGN})
  add_library(${name} STATIC ${A_SOURCES})
  target_include_directories(${name} PUBLIC "${PROJECT_SOURCE_DIR}/include")
  if(A_LIBS)
    target_link_libraries(${name} PUBLIC ${A_LIBS})
  endif()
  if(A_PRIVATE_LIBS)
    target_link_libraries(${name} PRIVATE ${A_PRIVATE_LIBS})
  endif()
  ht_warnings(${name})
endfunction()
