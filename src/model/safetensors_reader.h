// safetensors_reader.h — zero-copy reader (and a small writer) for the safetensors format.
//
// Layout: 8 bytes little-endian u64 N, N bytes of JSON header, then the data section. Each header
// entry is {"dtype":..,"shape":[..],"data_offsets":[begin,end]} with offsets relative to the
// start of the data section; an optional "__metadata__" maps strings to strings.
//
// The reader maps the file read-only (MAP_PRIVATE) and every returned RawTensor points into that
// mapping; the mapping is unmapped when the last tensor (its `owner`) is destroyed. The file is
// treated as hostile: every size and offset is checked before anything points at it, and memory
// use is bounded by the header size (capped at kMaxSafetensorsHeaderBytes).
//
// Tensor data may be unaligned (offsets are arbitrary byte positions). Consumers must not assume
// alignment beyond 1 byte; model/weights.cc copies into torch-owned storage where it matters.
//
// If the file is modified or truncated while mapped, reads may fault (SIGBUS): that is inherent in
// mmap and the price of zero copy; model files are expected to stay put while loaded.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "model/raw_tensor.h"

namespace tolk::model {

// The official implementation refuses headers above 100 MB; so do we (real headers are a few MB).
inline constexpr uint64_t kMaxSafetensorsHeaderBytes = 100'000'000;
// No real model tensor has more dimensions than this.
inline constexpr size_t kMaxSafetensorsRank = 8;

// Reads every tensor of `path`. The returned map does not contain "__metadata__".
// Throws tolk::Error: kFileNotFound if the file is missing, unreadable or not a regular file;
// kInvalidModel ("<path>: <what>") for any malformed, inconsistent or hostile content, including
// duplicate tensor names and overlapping data ranges.
RawTensorMap read_safetensors(const std::string& path);

// Like read_safetensors, and also returns the "__metadata__" string map (empty when absent).
RawTensorMap read_safetensors(const std::string& path, std::map<std::string, std::string>* metadata);

// Writes `tensors` in the given order, data packed back to back, header padded with spaces to a
// multiple of 8 (as Hugging Face does) and "__metadata__" first when `metadata` is non-empty.
// Tensors must be contiguous (empty strides or row-major strides). Throws tolk::Error:
// kInvalidArgument for bad input (duplicate or reserved name, strided tensor, null data),
// kInternal if the file cannot be written.
void write_safetensors(const std::string& path,
                       const std::vector<std::pair<std::string, RawTensor>>& tensors,
                       const std::map<std::string, std::string>& metadata = {});

}  // namespace tolk::model
