/* CONV_2D, the AVX-512 VNNI level (r8_x86.h): dot products by VPDPBUSD, eight output pixels by 16 channels a
 * step, 64 multiply-accumulates an instruction. VPDPBUSD multiplies unsigned by signed bytes, so the inputs
 * are read as x + 128 (x XOR 0x80) and 128 x the filter's sum, formed at packing (the OFFSET table), comes off
 * before the requantization. Its int32 sums of four products do not saturate. Built with -mavx512f -mavx512bw
 * -mavx512vl -mavx512vnni; called only when the CPU has them (r8_x86_supported). */
#include "r8_x86.h"

#if defined(__x86_64__) && defined(__AVX512VNNI__) && defined(__AVX512F__)
#include <immintrin.h>

void r8_x86_dots_avx512_vnni(const int32_t* packed, const int8_t* patches, int8_t* work, int32_t* acc) {
  const int32_t kp = packed[R8_X86_KP], blocks = packed[R8_X86_BLOCKS], width = R8_X86_BLOCK * blocks;
  const int8_t* w = (const int8_t*)r8_x86_filters(packed);
  const __m512i flip = _mm512_set1_epi8((char)0x80);
  int32_t b, k, px, i;
  for (i = 0; i < 8 * kp; i += 64) { /* eight pixels' patches; kp is a multiple of 8 */
    _mm512_storeu_si512(work + i, _mm512_xor_si512(_mm512_loadu_si512(patches + i), flip));
  }
  for (b = 0; b < blocks; ++b) {
    __m512i a[8];
    for (px = 0; px < 8; ++px) a[px] = _mm512_setzero_si512();
    for (k = 0; k < kp; k += 4, w += 4 * R8_X86_BLOCK) {
      const __m512i weights = _mm512_loadu_si512(w);
      for (px = 0; px < 8; ++px) {
        int32_t quad;
        __builtin_memcpy(&quad, work + px * kp + k, 4);
        a[px] = _mm512_dpbusd_epi32(a[px], _mm512_set1_epi32(quad), weights);
      }
    }
    for (px = 0; px < 8; ++px) _mm512_storeu_si512(acc + px * width + b * R8_X86_BLOCK, a[px]);
  }
}

#else /* not built for AVX-512 VNNI: never called (r8_x86_supported) */
void r8_x86_dots_avx512_vnni(const int32_t* packed, const int8_t* patches, int8_t* work, int32_t* acc) {
  (void)packed, (void)patches, (void)work, (void)acc;
}
#endif
