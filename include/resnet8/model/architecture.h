#pragma once
// ResNet8, the MLPerf Tiny image classifier, written down once as a graph (graph.h). Every stage that
// needs the network's structure reads it from here (folding, planning, the writers and runners, through
// the plan's copy); the fp32 torch::nn::Module (model.h) is the readable reference port of the same
// network and is checked against it.
//
//   input   NHWC [N, 32, 32, 3], raw 0..255 pixels
//   stem    conv3x3(3->16) BN ReLU                                          32x32
//   stack1  conv1 3x3 BN ReLU, conv2 3x3 BN; add(conv2, stem) ReLU     (16)  32x32
//   stack2  conv1 3x3/2 BN ReLU, conv2 3x3 BN; 1x1/2 shortcut; add ReLU (32) 16x16
//   stack3  the same                                                     (64)   8x8
//   pool    global average, fc(64->10), softmax
//
// Node names are the fp32 module's parameter paths ("stack2.conv1" holds stack2.conv1.weight and
// .bias, its batch norm is "stack2.bn1"), so folding finds each layer's weights by name.
#include <resnet8/model/graph.h>

namespace resnet8 {

const Graph& resnet8_graph();

}  // namespace resnet8
