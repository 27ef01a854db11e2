// Placeholder until the C ABI lands.
extern "C" __attribute__((visibility("default"))) const char* tolk_version(void) { return "0.1.0"; }
