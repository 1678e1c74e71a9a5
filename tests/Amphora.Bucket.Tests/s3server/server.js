'use strict';
// Starts s3rver, a real S3-compatible server, for S3Bucket's tests.
// Usage: node --openssl-legacy-provider server.js BUCKET [PORT]
//   s3rver encrypts ListObjectsV2 continuation tokens with DES, which OpenSSL 3 only offers through its legacy provider.
// Binds 127.0.0.1 only; PORT 0 or absent picks a free port. Prints {"port":N} on stdout once the bucket exists.
// Stops, and removes its data directory, when stdin closes or on SIGTERM/SIGINT, so a test host that dies never leaves
// a server behind.
const fs = require('fs');
const os = require('os');
const path = require('path');
const S3rver = require('s3rver');

const [bucket, port = '0'] = process.argv.slice(2);
if (!bucket) {
  console.error('usage: node --openssl-legacy-provider server.js BUCKET [PORT]');
  process.exit(2);
}

const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'amphora-s3rver-'));
const server = new S3rver({
  address: '127.0.0.1',
  port: Number(port),
  directory,
  silent: true,
  configureBuckets: [{ name: bucket }],
});
listLikeS3(server.store);

/**
 * s3rver 3.7.1 lists with a delimiter by walking its directory tree, and so misses a common prefix ("tenant/") that holds
 * no object directly, only deeper ones ("tenant/block/meta.json"); it also pages in directory order rather than key order.
 * This lists every key below the prefix, then groups and pages them the way S3 does: sorted, a page ending after maxKeys
 * objects, and each common prefix on the page that comes before the next page's first key.
 */
function listLikeS3(store) {
  const listAll = store.listObjects.bind(store);
  store.listObjects = async (bucketName, options) => {
    const { delimiter, maxKeys = Infinity } = options;
    const prefix = options.prefix || '';
    const all = await listAll(bucketName, { ...options, delimiter: undefined, maxKeys: Infinity });
    all.objects.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    const objects = [];
    const commonPrefixes = new Set();
    let isTruncated = false;
    for (const object of all.objects) {
      const end = delimiter ? object.key.indexOf(delimiter, prefix.length) : -1;
      const commonPrefix = end === -1 ? undefined : object.key.slice(0, end + delimiter.length);
      if (commonPrefixes.has(commonPrefix)) continue;
      if (objects.length === maxKeys) {
        isTruncated = true;
        break;
      }
      if (commonPrefix === undefined) objects.push(object);
      else commonPrefixes.add(commonPrefix);
    }
    return { objects, commonPrefixes: [...commonPrefixes], isTruncated };
  };
}

let stopping = false;
async function stop() {
  if (stopping) return;
  stopping = true;
  try {
    await server.close();
  } finally {
    fs.rmSync(directory, { recursive: true, force: true });
    process.exit(0);
  }
}

server.run().then(
  address => {
    process.stdout.write(JSON.stringify({ port: address.port }) + '\n');
    process.stdin.on('end', stop);
    process.stdin.resume();
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  },
  err => {
    console.error(`s3rver failed to start: ${err.stack || err}`);
    fs.rmSync(directory, { recursive: true, force: true });
    process.exit(1);
  },
);
