// Original file names of attachments, for people to read: the client names
// the file when uploading it (POST /api/v1/attachments?name=发票.pdf), the
// store keeps the name next to the content hash (Store::NameAttachment), and
// instance responses carry {"attachment_names": {"sha256:...": "发票.pdf"}}
// for the attachments their form names. Downloads stay by hash.
#ifndef APPROVALD_API_ATTACHMENT_NAMES_H_
#define APPROVALD_API_ATTACHMENT_NAMES_H_

#include <string>
#include <string_view>
#include <vector>

#include <boost/json.hpp>

#include "approvald/status.h"
#include "approvald/store.h"
#include "approvald/value.h"

namespace approvald::api {

// The longest name kept, in bytes of UTF-8.
inline constexpr size_t kMaxAttachmentNameBytes = 255;

// A client-sent file name made fit to keep and show: any directory part
// ("C:\\fakepath\\a.pdf", "../a.pdf") is dropped and surrounding spaces
// trimmed. kInvalidArgument "invalid_field" naming the problem if the result
// is empty, is not UTF-8, holds control characters, or is longer than
// kMaxAttachmentNameBytes.
Result<std::string> CleanAttachmentName(std::string_view raw);

// Every attachment address ("sha256:<hex>") `form` names, at any depth
// (lists, records), each once, in first-seen order.
std::vector<std::string> AttachmentAddresses(const FormData& form);

// {address: name} for the attachments `form` names that have a recorded
// name; a store error leaves the names out (they are a display nicety, the
// instance is still served).
boost::json::object AttachmentNamesJson(Store& store, const FormData& form);
// The same for the addresses AttachmentAddresses found.
boost::json::object AttachmentNamesJson(Store& store, const std::vector<std::string>& addresses);

}  // namespace approvald::api

#endif  // APPROVALD_API_ATTACHMENT_NAMES_H_
