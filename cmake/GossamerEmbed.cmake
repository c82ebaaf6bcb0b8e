# gossamer_embed(<target> <symbol> <file>): links the bytes of <file> into <target>.
# C++ sees them as `extern "C" const char <symbol>_begin[], <symbol>_end[];`, followed by a NUL.
# Uses the assembler's .incbin, so a multi-megabyte file costs no compile time, and the
# object is rebuilt when the file changes.
function(gossamer_embed target symbol file)
  get_filename_component(abs "${file}" ABSOLUTE)
  set(asm "${CMAKE_CURRENT_BINARY_DIR}/embed/${symbol}.S")
  file(WRITE "${asm}.in"
    "    .section .rodata\n"
    "    .global ${symbol}_begin\n"
    "    .global ${symbol}_end\n"
    "    .balign 16\n"
    "${symbol}_begin:\n"
    "    .incbin \"${abs}\"\n"
    "${symbol}_end:\n"
    "    .byte 0\n"
    "    .section .note.GNU-stack,\"\",@progbits\n")
  configure_file("${asm}.in" "${asm}" COPYONLY)
  set_source_files_properties("${asm}" PROPERTIES OBJECT_DEPENDS "${abs}")
  target_sources(${target} PRIVATE "${asm}")
endfunction()
