// translate.cc — the smallest complete use of tolk's C++ API.
//
//   translate_cpp MODEL_DIR TEXT [SRC_LANG [TGT_LANG]]
//
// Loads the model directory, translates TEXT (default eng_Latn → fra_Latn) with a synchronous
// call and an asynchronous one, checks that both agree, and prints the translation. Exits 1 with
// tolk's status name and message on any failure.
#include <tolk/engine.h>

#include <iostream>

int main(int argc, char** argv) {
  if (argc < 3) {
    std::cerr << "usage: " << argv[0] << " MODEL_DIR TEXT [SRC_LANG [TGT_LANG]]\n";
    return 2;
  }
  const std::string src = argc > 3 ? argv[3] : "eng_Latn";
  const std::string tgt = argc > 4 ? argv[4] : "fra_Latn";
  try {
    tolk::TranslatorEngine engine;
    engine.load_model("model", argv[1]);
    const tolk::TranslationResult sync = engine.translate_sync("model", argv[2], src, tgt);

    // The same request, asynchronously: the handle is waited on here; a callback would also do.
    auto request = engine.translate_async("model", argv[2], src, tgt);
    request->wait(-1);
    const tolk::TranslationResult async = request->take_result();
    if (!async.ok()) {
      std::cerr << "async translation failed: " << tolk::status_code_name(async.status) << ": "
                << async.error << "\n";
      return 1;
    }
    if (async.ids != sync.ids) {
      std::cerr << "sync and async translations differ\n";
      return 1;
    }
    std::cout << sync.text << "\n";
    return 0;
  } catch (const tolk::Error& e) {
    std::cerr << "tolk: " << tolk::status_code_name(e.code()) << ": " << e.what() << "\n";
    return 1;
  }
}
