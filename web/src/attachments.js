// Original file names of attachments. An attachment is addressed by its
// content hash ("sha256:<hex>"), which is what forms hold and downloads use;
// people see the name it was uploaded under. Names come from the upload
// response and from the instance's `attachment_names` ({hash: name}); the
// hash's first 12 hex digits stand in when no name is known.

const names = new Map();

export function rememberAttachmentName(hash, name) {
  if (hash && name) names.set(hash, String(name));
}

// Learns every name of an API object's attachment_names map.
export function learnAttachmentNames(map) {
  for (const [hash, name] of Object.entries(map || {})) rememberAttachmentName(hash, name);
}

export function attachmentName(hash) {
  return names.get(hash) || '';
}

export function shortHash(hash) {
  return String(hash).slice(7, 19) + '…';
}

// A file name safe to hand to the browser's download (no path separators or
// control characters); the hash prefix when there is no name.
export function downloadName(hash, name = attachmentName(hash)) {
  const clean = String(name || '').replace(/[\u0000-\u001f\u007f/\\]/g, '_').trim();
  return clean || String(hash).slice(7, 19);
}
