// torch_bin_reader.h — reads a Hugging Face `pytorch_model.bin` without executing it.
//
// Such a file is a zip written by torch.save: `<prefix>/data.pkl` pickles an OrderedDict of
// name → tensor, and each storage's bytes are in `<prefix>/data/<key>`. LibTorch's own
// torch::pickle_load refuses HF's files, and Python's pickle would run whatever the file names,
// so the pickle is read by our restricted machine (pickle_vm.h), which accepts only the handful of
// torch globals a state dict needs. The zip itself is read by LibTorch's PyTorchStreamReader.
#pragma once

#include <string>

#include "model/raw_tensor.h"

namespace tolk::model {

// Reads every tensor of the state dict at `path`. Each RawTensor's `data` points at its first
// element (storage base + storage_offset), `strides` are the pickled element strides, and
// tensors that share a storage (tied weights) share one buffer, kept alive by `owner`.
// Every element a tensor addresses is checked to lie inside its storage.
//
// Throws tolk::Error: kFileNotFound if the file is missing or unreadable; kUnsupportedModel for a
// well-formed file this reader does not handle (legacy pre-1.6 format, big-endian storages);
// kInvalidModel for anything corrupt, truncated, inconsistent or hostile (a pickle global other
// than the torch ones a state dict needs). Messages start with `path`.
RawTensorMap read_torch_bin(const std::string& path);

}  // namespace tolk::model
