// A Docker-Hub-style token server for a real docker-registry: RS256 JWTs with the signing
// certificate in x5c (signed by the CA in the registry's rootcertbundle). Anonymous clients get
// pull only; testuser:testpassword gets whatever it asks; a wrong password gets 401.
#pragma once

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <chrono>
#include <cstdio>

#include "auth.hpp"
#include "fake_registry.hpp"
#include "registry_fixture.hpp"

namespace raind::images::test {

inline std::string base64url(std::string_view data) {
    std::string s = base64_encode(data);
    for (auto& c : s)
        c = c == '+' ? '-' : c == '/' ? '_' : c;
    while (!s.empty() && s.back() == '=')
        s.pop_back();
    return s;
}

class TokenServer {
public:
    static constexpr const char* service = "raind-test";
    static constexpr const char* issuer = "raind-test-issuer";

    // `certs` holds ca.crt/ca.key from make_certs(); the signing key is made here.
    explicit TokenServer(const std::filesystem::path& certs) {
        std::string d = certs.string();
        EXPECT_EQ(run("openssl req -newkey rsa:2048 -nodes -keyout " + d + "/token.key -out " + d +
                      "/token.csr -subj '/CN=raind token signer'"),
                  0);
        write_text(certs / "token-ext.cnf", "keyUsage=digitalSignature\n");
        EXPECT_EQ(run("openssl x509 -req -in " + d + "/token.csr -CA " + d + "/ca.crt -CAkey " + d +
                      "/ca.key -CAcreateserial -days 2 -sha256 -out " + d + "/token.crt -extfile " + d +
                      "/token-ext.cnf"),
                  0);
        FILE* f = std::fopen((certs / "token.key").c_str(), "r");
        key_ = PEM_read_PrivateKey(f, nullptr, nullptr, nullptr);
        std::fclose(f);
        f = std::fopen((certs / "token.crt").c_str(), "r");
        X509* cert = PEM_read_X509(f, nullptr, nullptr, nullptr);
        std::fclose(f);
        unsigned char* der = nullptr;
        int len = i2d_X509(cert, &der);
        cert_der_b64_ = base64_encode(std::string(reinterpret_cast<char*>(der), static_cast<size_t>(len)));
        OPENSSL_free(der);
        X509_free(cert);

        http.server.Get("/token", [this](const httplib::Request& req, httplib::Response& res) { issue(req, res); });
    }
    ~TokenServer() { EVP_PKEY_free(key_); }

    std::string realm() const { return http.origin() + "/token"; }
    // The auth section of a docker-registry config that trusts this server.
    std::string registry_config(const std::filesystem::path& certs) const {
        return std::string("auth:\n  token:\n    realm: ") + realm() + "\n    service: " + service +
               "\n    issuer: " + issuer + "\n    rootcertbundle: " + (certs / "ca.crt").string() + "\n";
    }
    std::atomic<int> issued{0};
    HttpServer http;

private:
    void issue(const httplib::Request& req, httplib::Response& res) {
        bool user = false;
        if (auto a = req.get_header_value("Authorization"); !a.empty()) {
            auto decoded = base64_decode(a.substr(6));
            if (a.rfind("Basic ", 0) != 0 || !decoded || *decoded != "testuser:testpassword") {
                res.status = 401;
                res.set_content(R"({"details":"invalid username/password"})", "application/json");
                return;
            }
            user = true;
        }
        nlohmann::json access = nlohmann::json::array();
        for (size_t i = 0; i < req.get_param_value_count("scope"); ++i) {
            std::string scope = req.get_param_value("scope", i); // type:name:actions
            auto first = scope.find(':'), last = scope.rfind(':');
            if (first == std::string::npos || first == last)
                continue;
            nlohmann::json actions = nlohmann::json::array();
            std::string list = scope.substr(last + 1);
            for (size_t p = 0; p <= list.size();) {
                size_t c = list.find(',', p);
                std::string a = list.substr(p, c == std::string::npos ? std::string::npos : c - p);
                if (user || a == "pull")
                    actions.push_back(a);
                if (c == std::string::npos)
                    break;
                p = c + 1;
            }
            access.push_back({{"type", scope.substr(0, first)}, {"name", scope.substr(first + 1, last - first - 1)},
                              {"actions", actions}});
        }
        auto now = std::chrono::duration_cast<std::chrono::seconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
        nlohmann::json header = {{"typ", "JWT"}, {"alg", "RS256"}, {"x5c", {cert_der_b64_}}};
        nlohmann::json claims = {{"iss", issuer},          {"sub", user ? "testuser" : ""},
                                 {"aud", service},         {"exp", now + 300},
                                 {"nbf", now - 10},        {"iat", now},
                                 {"jti", std::to_string(++issued)}, {"access", access}};
        std::string signing_input = base64url(header.dump()) + "." + base64url(claims.dump());
        EVP_MD_CTX* ctx = EVP_MD_CTX_new();
        size_t sig_len = 0;
        EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, key_);
        EVP_DigestSign(ctx, nullptr, &sig_len, reinterpret_cast<const unsigned char*>(signing_input.data()),
                       signing_input.size());
        std::string sig(sig_len, '\0');
        EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &sig_len,
                       reinterpret_cast<const unsigned char*>(signing_input.data()), signing_input.size());
        EVP_MD_CTX_free(ctx);
        sig.resize(sig_len);
        std::string jwt = signing_input + "." + base64url(sig);
        res.set_content(nlohmann::json({{"token", jwt}, {"access_token", jwt}, {"expires_in", 300}}).dump(),
                        "application/json");
    }

    EVP_PKEY* key_ = nullptr;
    std::string cert_der_b64_;
};

} // namespace raind::images::test
