# GOSSAMER_CUDA=AUTO builds the CUDA backend when nvcc is found (build machines have nvcc at
# /usr/local/cuda but no GPU); ON requires it; OFF skips it. Sets GOSSAMER_HAVE_CUDA.
set(GOSSAMER_HAVE_CUDA OFF)
if(NOT GOSSAMER_CUDA STREQUAL "OFF")
  if(NOT CMAKE_CUDA_COMPILER AND EXISTS "/usr/local/cuda/bin/nvcc")
    set(CMAKE_CUDA_COMPILER "/usr/local/cuda/bin/nvcc")
  endif()
  include(CheckLanguage)
  check_language(CUDA)
  if(CMAKE_CUDA_COMPILER)
    if(NOT DEFINED CMAKE_CUDA_ARCHITECTURES)
      # Hopper first; Ada, Ampere consumer and A100 for 16 GB cards and older servers.
      set(CMAKE_CUDA_ARCHITECTURES "90a;89;86;80")
    endif()
    enable_language(CUDA)
    find_package(CUDAToolkit REQUIRED)
    set(CMAKE_CUDA_STANDARD 17)  # CMake 3.25 does not know C++20 flags for nvcc
    set(CMAKE_CUDA_STANDARD_REQUIRED ON)
    set(GOSSAMER_HAVE_CUDA ON)
  elseif(GOSSAMER_CUDA STREQUAL "ON")
    message(FATAL_ERROR "GOSSAMER_CUDA=ON but no CUDA compiler was found "
                        "(set CMAKE_CUDA_COMPILER or install the CUDA toolkit)")
  endif()
endif()
message(STATUS "gossamer: CUDA backend ${GOSSAMER_HAVE_CUDA} (GOSSAMER_CUDA=${GOSSAMER_CUDA})")
