// nllb_language_codes.cc — see nllb_language_codes.h.
#include "text/nllb_language_codes.h"

#include <algorithm>
#include <cctype>
#include <tuple>

namespace tolk::text {

const std::vector<std::string>& nllb_language_codes() {
  // fairseq order, copied from transformers' FAIRSEQ_LANGUAGE_CODES via the dev tokenizer's
  // added_tokens_decoder (ids 251..452). Do not sort: the index is part of the id formula.
  static const std::vector<std::string> codes = {
    "ace_Arab", "ace_Latn", "acm_Arab", "acq_Arab", "aeb_Arab", "afr_Latn",
    "ajp_Arab", "aka_Latn", "amh_Ethi", "apc_Arab", "arb_Arab", "ars_Arab",
    "ary_Arab", "arz_Arab", "asm_Beng", "ast_Latn", "awa_Deva", "ayr_Latn",
    "azb_Arab", "azj_Latn", "bak_Cyrl", "bam_Latn", "ban_Latn", "bel_Cyrl",
    "bem_Latn", "ben_Beng", "bho_Deva", "bjn_Arab", "bjn_Latn", "bod_Tibt",
    "bos_Latn", "bug_Latn", "bul_Cyrl", "cat_Latn", "ceb_Latn", "ces_Latn",
    "cjk_Latn", "ckb_Arab", "crh_Latn", "cym_Latn", "dan_Latn", "deu_Latn",
    "dik_Latn", "dyu_Latn", "dzo_Tibt", "ell_Grek", "eng_Latn", "epo_Latn",
    "est_Latn", "eus_Latn", "ewe_Latn", "fao_Latn", "pes_Arab", "fij_Latn",
    "fin_Latn", "fon_Latn", "fra_Latn", "fur_Latn", "fuv_Latn", "gla_Latn",
    "gle_Latn", "glg_Latn", "grn_Latn", "guj_Gujr", "hat_Latn", "hau_Latn",
    "heb_Hebr", "hin_Deva", "hne_Deva", "hrv_Latn", "hun_Latn", "hye_Armn",
    "ibo_Latn", "ilo_Latn", "ind_Latn", "isl_Latn", "ita_Latn", "jav_Latn",
    "jpn_Jpan", "kab_Latn", "kac_Latn", "kam_Latn", "kan_Knda", "kas_Arab",
    "kas_Deva", "kat_Geor", "knc_Arab", "knc_Latn", "kaz_Cyrl", "kbp_Latn",
    "kea_Latn", "khm_Khmr", "kik_Latn", "kin_Latn", "kir_Cyrl", "kmb_Latn",
    "kon_Latn", "kor_Hang", "kmr_Latn", "lao_Laoo", "lvs_Latn", "lij_Latn",
    "lim_Latn", "lin_Latn", "lit_Latn", "lmo_Latn", "ltg_Latn", "ltz_Latn",
    "lua_Latn", "lug_Latn", "luo_Latn", "lus_Latn", "mag_Deva", "mai_Deva",
    "mal_Mlym", "mar_Deva", "min_Latn", "mkd_Cyrl", "plt_Latn", "mlt_Latn",
    "mni_Beng", "khk_Cyrl", "mos_Latn", "mri_Latn", "zsm_Latn", "mya_Mymr",
    "nld_Latn", "nno_Latn", "nob_Latn", "npi_Deva", "nso_Latn", "nus_Latn",
    "nya_Latn", "oci_Latn", "gaz_Latn", "ory_Orya", "pag_Latn", "pan_Guru",
    "pap_Latn", "pol_Latn", "por_Latn", "prs_Arab", "pbt_Arab", "quy_Latn",
    "ron_Latn", "run_Latn", "rus_Cyrl", "sag_Latn", "san_Deva", "sat_Beng",
    "scn_Latn", "shn_Mymr", "sin_Sinh", "slk_Latn", "slv_Latn", "smo_Latn",
    "sna_Latn", "snd_Arab", "som_Latn", "sot_Latn", "spa_Latn", "als_Latn",
    "srd_Latn", "srp_Cyrl", "ssw_Latn", "sun_Latn", "swe_Latn", "swh_Latn",
    "szl_Latn", "tam_Taml", "tat_Cyrl", "tel_Telu", "tgk_Cyrl", "tgl_Latn",
    "tha_Thai", "tir_Ethi", "taq_Latn", "taq_Tfng", "tpi_Latn", "tsn_Latn",
    "tso_Latn", "tuk_Latn", "tum_Latn", "tur_Latn", "twi_Latn", "tzm_Tfng",
    "uig_Arab", "ukr_Cyrl", "umb_Latn", "urd_Arab", "uzn_Latn", "vec_Latn",
    "vie_Latn", "war_Latn", "wol_Latn", "xho_Latn", "ydd_Hebr", "yor_Latn",
    "yue_Hant", "zho_Hans", "zho_Hant", "zul_Latn",
  };
  return codes;
}

bool looks_like_nllb_code(std::string_view s) {
  auto lower = [](char c) { return c >= 'a' && c <= 'z'; };
  return s.size() == 8 && lower(s[0]) && lower(s[1]) && lower(s[2]) && s[3] == '_' &&
         s[4] >= 'A' && s[4] <= 'Z' && lower(s[5]) && lower(s[6]) && lower(s[7]);
}

namespace {

std::string normalise(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    c = c == '-' ? '_' : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

// Plain Levenshtein distance over bytes; codes are ASCII and queries are short (capped below).
size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

size_t common_prefix(const std::string& a, const std::string& b) {
  size_t n = 0;
  while (n < a.size() && n < b.size() && a[n] == b[n]) ++n;
  return n;
}

}  // namespace

std::vector<std::string> suggest_language_codes(std::string_view query,
                                                const std::vector<std::string>& known,
                                                size_t max_results) {
  // A hostile caller could pass megabytes; nothing longer than this is a plausible typo.
  if (query.empty() || query.size() > 64) return {};
  const std::string q = normalise(query);
  // Tiers, best first: same code ignoring case; same language part ("fra"); one is a prefix of
  // the other ("fra_", "english"→"eng"); a small typo; a shared two-letter start ("french").
  std::vector<std::tuple<int, size_t, size_t>> ranked;  // (tier, distance, index in known)
  for (size_t i = 0; i < known.size(); ++i) {
    const std::string code = normalise(known[i]);
    const std::string lang = code.substr(0, code.find('_'));
    const size_t dist = edit_distance(q, code);
    int tier;
    if (q == code) {
      tier = 0;
    } else if (q == lang) {
      tier = 1;
    } else if (code.compare(0, q.size(), q) == 0 || q.compare(0, lang.size(), lang) == 0) {
      tier = 2;
    } else if (dist <= 2 || edit_distance(q, lang) <= 1) {
      tier = 3;
    } else if (common_prefix(q, lang) >= 2) {
      tier = 4;
    } else {
      continue;
    }
    ranked.emplace_back(tier, dist, i);
  }
  std::sort(ranked.begin(), ranked.end());
  std::vector<std::string> out;
  // Far-fetched tiers only add noise once a much better match exists ("zho" ↛ bho_Deva).
  for (size_t k = 0; k < ranked.size() && out.size() < max_results; ++k) {
    if (std::get<0>(ranked[k]) > std::get<0>(ranked[0]) + 1) break;
    out.push_back(known[std::get<2>(ranked[k])]);
  }
  return out;
}

}  // namespace tolk::text
