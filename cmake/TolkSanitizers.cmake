# TolkSanitizers.cmake — -DTOLK_SANITIZE=address (ASan + UBSan) or thread (TSan) instruments
# tolk's own code: the libraries, the tools, the tests and the stress program. The SentencePiece
# shim stays uninstrumented: sanitizers refuse the RTLD_DEEPBIND it is normally loaded with, so
# these builds load it with dlmopen into a namespace of its own (TOLK_SPM_DLMOPEN), where the
# sanitizer runtime is absent. LibTorch is Debian's, uninstrumented; the suppressions for its
# internals are in tests/sanitizers/ (none name tolk's code). scripts/sanitize.sh drives it.
set(TOLK_SANITIZE "" CACHE STRING "Sanitizer build: '' (none), 'address' (ASan+UBSan) or 'thread' (TSan)")
if(TOLK_SANITIZE STREQUAL "")
  return()
elseif(TOLK_SANITIZE STREQUAL "address")
  set(_flags -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer)
elseif(TOLK_SANITIZE STREQUAL "thread")
  set(_flags -fsanitize=thread -fno-omit-frame-pointer)
else()
  message(FATAL_ERROR "TOLK_SANITIZE must be '', 'address' or 'thread', not '${TOLK_SANITIZE}'")
endif()

target_compile_definitions(tolk PRIVATE TOLK_SPM_DLMOPEN)
foreach(t tolk tolk_c tolk_cli tolk_train tolk_tests tolk_stress tolk_bench tolk_example_translate
          tolk_example_translate_cpp tolk_c99_header_check)
  if(TARGET ${t})
    target_compile_options(${t} PRIVATE ${_flags})
    target_link_options(${t} PRIVATE ${_flags})
  endif()
endforeach()
