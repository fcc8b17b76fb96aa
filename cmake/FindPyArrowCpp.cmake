# Locates Arrow C++ (libarrow, compute, acero, dataset, parquet) inside the
# pinned pyarrow wheel of the project's virtualenv. The wheel ships headers and
# versioned shared libraries built with the new C++ ABI; we link the versioned
# files directly and record their folder as RPATH so binaries need no
# environment variables.
set(LAKESTREAM_PYTHON "${CMAKE_SOURCE_DIR}/.venv/bin/python" CACHE FILEPATH "Python with pyarrow")
execute_process(
  COMMAND "${LAKESTREAM_PYTHON}" -c "import pyarrow as pa, os; print(pa.get_include()); print(os.path.dirname(pa.__file__)); print(pa.__version__)"
  OUTPUT_VARIABLE _pa_out RESULT_VARIABLE _pa_rc OUTPUT_STRIP_TRAILING_WHITESPACE)
if(NOT _pa_rc EQUAL 0)
  message(FATAL_ERROR "pyarrow not found in ${LAKESTREAM_PYTHON}: run scripts/install-deps.sh")
endif()
string(REPLACE "\n" ";" _pa_lines "${_pa_out}")
list(GET _pa_lines 0 PYARROW_INCLUDE_DIR)
list(GET _pa_lines 1 PYARROW_LIB_DIR)
list(GET _pa_lines 2 PYARROW_VERSION)
message(STATUS "Arrow C++ from pyarrow ${PYARROW_VERSION}: ${PYARROW_LIB_DIR}")

function(_lakestream_arrow_lib target stem)
  file(GLOB _candidates "${PYARROW_LIB_DIR}/lib${stem}.so.[0-9]*")
  list(FILTER _candidates EXCLUDE REGEX "\\.so\\.[0-9]+\\.[0-9]")
  list(LENGTH _candidates _n)
  if(_n EQUAL 0)
    message(FATAL_ERROR "lib${stem}.so.* not found in ${PYARROW_LIB_DIR}")
  endif()
  list(GET _candidates 0 _lib)
  add_library(${target} SHARED IMPORTED GLOBAL)
  set_target_properties(${target} PROPERTIES
    IMPORTED_LOCATION "${_lib}"
    IMPORTED_NO_SONAME FALSE
    INTERFACE_INCLUDE_DIRECTORIES "${PYARROW_INCLUDE_DIR}")
endfunction()

_lakestream_arrow_lib(Arrow::arrow arrow)
_lakestream_arrow_lib(Arrow::compute arrow_compute)
_lakestream_arrow_lib(Arrow::acero arrow_acero)
_lakestream_arrow_lib(Arrow::dataset arrow_dataset)
_lakestream_arrow_lib(Parquet::parquet parquet)
set_property(TARGET Arrow::compute APPEND PROPERTY INTERFACE_LINK_LIBRARIES Arrow::arrow)
set_property(TARGET Arrow::acero APPEND PROPERTY INTERFACE_LINK_LIBRARIES Arrow::compute)
set_property(TARGET Parquet::parquet APPEND PROPERTY INTERFACE_LINK_LIBRARIES Arrow::arrow)
set_property(TARGET Arrow::dataset APPEND PROPERTY INTERFACE_LINK_LIBRARIES Arrow::acero Parquet::parquet)
