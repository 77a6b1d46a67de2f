// Classifies a mid-grey image with the installed library's native ResNet8, through the umbrella header
// a consumer includes.
#include <resnet8/resnet8.h>

#include <torch/torch.h>

#include <iostream>

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: consumer MODEL.pt\n";
    return 2;
  }
  resnet8::ResNet8 model = resnet8::load_resnet8(argv[1]);
  torch::InferenceMode guard;
  const torch::Tensor probs = model->forward(torch::full({2, 32, 32, 3}, 128.0f));
  const bool ok = probs.sizes() == torch::IntArrayRef{2, 10} && std::abs(probs.sum().item<double>() - 2.0) < 1e-4;
  std::cout << "consumer: " << (ok ? "ok" : "FAILED") << ", class " << probs.argmax(1)[0].item<int64_t>() << "\n";
  return ok ? 0 : 1;
}
