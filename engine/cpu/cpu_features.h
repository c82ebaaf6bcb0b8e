// What the CPU and the operating system let gossamer's kernels use, from cpuid and xgetbv
// (an instruction set counts only when the OS also saves its registers). Queried once; it
// must not choose kernels (matmul.cpp does that).
#pragma once

namespace gossamer::engine::cpu {

struct CpuFeatures {
    bool avx2_fma = false;     // AVX2 + FMA + F16C, YMM state enabled by the OS
    bool avx512 = false;       // AVX-512 F/BW/VL/DQ, ZMM and opmask state enabled by the OS
    bool avx512_vnni = false;  // avx512 and AVX512_VNNI (vpdpbusd)
    bool avx512_bf16 = false;  // avx512_vnni and AVX512_BF16 (vdpbf16ps)
};

const CpuFeatures& cpu_features();

}  // namespace gossamer::engine::cpu
