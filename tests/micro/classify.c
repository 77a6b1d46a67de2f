/* Test harness for the generated C (resnet8-ptq --c-source, resnet8-micro): classifies CIFAR-10 test images
 * with resnet8_classify and prints one line per image: its label, the returned class and the 10 int8
 * scores. tests/test_c_source.py compiles it with the host's compiler; scripts/mcu.sh builds it for a
 * Cortex-M4 (R8_MCU: images read through semihosting, instructions and stack measured, mcu_support.h).
 *
 *   classify TEST_BATCH_BIN COUNT [FIRST]        (host: COUNT images from image FIRST, default 0)
 */
#include <stdio.h>
#include <stdlib.h>

#include "resnet8_model.h"

#ifdef R8_MCU
#include "mcu_support.h"
#endif

/* A CIFAR-10 record (label, then 1024 red, 1024 green, 1024 blue bytes) as the model's HWC image. */
static void to_hwc(const unsigned char record[3073], uint8_t image[32 * 32 * 3]) {
  int y, x, c;
  for (y = 0; y < 32; ++y) {
    for (x = 0; x < 32; ++x) {
      for (c = 0; c < 3; ++c) image[(y * 32 + x) * 3 + c] = record[1 + c * 1024 + y * 32 + x];
    }
  }
}

int main(int argc, char** argv) {
  static unsigned char record[3073];
  static uint8_t image[32 * 32 * 3];
  int8_t scores[10];
  const char* path;
  long count, first = 0, i;
  FILE* f;
#ifdef R8_MCU
  (void)argc;
  (void)argv;
  path = R8_MCU_IMAGES;
  count = R8_MCU_COUNT;
  mcu_start();
#else
  if (argc != 3 && argc != 4) {
    fprintf(stderr, "usage: %s TEST_BATCH_BIN COUNT [FIRST]\n", argv[0]);
    return 2;
  }
  path = argv[1];
  count = strtol(argv[2], NULL, 10);
  if (argc == 4) first = strtol(argv[3], NULL, 10);
#endif
  f = fopen(path, "rb");
  if (!f || fseek(f, first * (long)sizeof record, SEEK_SET) != 0) {
    fprintf(stderr, "classify: cannot open %s at image %ld\n", path, first);
    return 1;
  }
  for (i = 0; i < count; ++i) {
    int label, k;
    if (fread(record, 1, sizeof record, f) != sizeof record) {
      fprintf(stderr, "classify: %s holds fewer than %ld images\n", path, count);
      return 1;
    }
    to_hwc(record, image);
#ifdef R8_MCU
    label = mcu_classify(image, scores);
#else
    label = resnet8_classify(image, scores);
#endif
    printf("%d %d", record[0], label);
    for (k = 0; k < 10; ++k) printf(" %d", scores[k]);
    printf("\n");
  }
  fclose(f);
#ifdef R8_MCU
  mcu_report();
#endif
  return 0;
}
