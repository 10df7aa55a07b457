#include "errors.hpp"

#include "archive.hpp"
#include "container_errors.hpp"
#include "container_records.hpp"
#include "container_spec.hpp"
#include "digest.hpp"
#include "registry.hpp"
#include "store.hpp"
#include "unpack.hpp"

namespace condenser::errors {

sdbus::Error from_exception(std::exception_ptr error) {
    namespace images = raind::images;
    try {
        std::rethrow_exception(error);
    } catch (const sdbus::Error& e) {
        return e;
    } catch (const NameInUse& e) {
        return make(name_in_use, e.what());
    } catch (const NoSuchContainer& e) {
        return make(no_such_container, e.what());
    } catch (const ContainerRunning& e) {
        return make(container_running, e.what());
    } catch (const ContainerNotRunning& e) {
        return make(container_not_running, e.what());
    } catch (const InvalidContainerArgument& e) {
        return make(invalid_argument, e.what());
    } catch (const images::InvalidReference& e) {
        return make(invalid_argument, e.what());
    } catch (const images::InvalidDigest& e) {
        return make(invalid_argument, e.what());
    } catch (const images::NoSuchImage& e) {
        return make(no_such_image, e.what());
    } catch (const images::ImageInUse& e) {
        return make(image_in_use, std::string(e.what()) + " (use force to remove it anyway)");
    } catch (const images::DigestMismatch& e) {
        return make(digest_mismatch, e.what());
    } catch (const images::UnsafeLayerEntry& e) {
        return make(invalid_image, e.what());
    } catch (const images::Cancelled& e) {
        return make(cancelled, e.what());
    } catch (const images::AuthenticationError& e) {
        return make(permission_denied, e.what());
    } catch (const images::RegistryError& e) {
        return make(registry, e.what());
    } catch (const images::TransportError& e) {
        return make(registry, e.what());
    } catch (const std::exception& e) {
        return make(internal, e.what());
    } catch (...) {
        return make(internal, "unknown failure");
    }
}

} // namespace condenser::errors
