'use strict';
// Starts s3rver, a real S3-compatible server, for S3Bucket's tests.
// Usage: node --openssl-legacy-provider server.js BUCKET [PORT]
//   s3rver encrypts ListObjectsV2 continuation tokens with DES, which OpenSSL 3 only offers through its legacy provider.
// Binds 127.0.0.1 only; PORT 0 or absent picks a free port. Prints {"port":N} on stdout once the bucket exists.
// Stops, and removes its data directory, when stdin closes or on SIGTERM/SIGINT, so a test host that dies never leaves
// a server behind. A line "down" on stdin makes the server unreachable (it stops listening and drops every connection,
// keeping its objects) and prints {"down":true}; "up" listens on the same port again and prints {"up":true}.
const crypto = require('crypto');
const fs = require('fs');
const os = require('os');
const path = require('path');
const S3rver = require('s3rver');
const S3Error = require('s3rver/lib/models/error');

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
objectsLikeS3(server, process.env.S3RVER_IGNORE_CONDITIONS !== '1');

/**
 * S3 makes a PUT atomic for readers and, since 2024, honours If-Match and If-None-Match on PutObject (and If-Match on
 * DeleteObject): the write happens only when the object's ETag matches (If-Match) or the object does not exist
 * (If-None-Match: *), else 412 PreconditionFailed. s3rver 3.7.1 does neither: it ignores both headers, and it rewrites an
 * object file in place and its ETag file after it, so a reader can see part of an object, or an ETag that is not the
 * content's. This gives s3rver S3's behaviour: a PUT writes a temporary file and renames it (fs.rename is atomic), and the
 * requests of one key (reads included) pass one at a time through a queue of that key, so a condition is checked and the
 * write done with nothing of that key in between, and a reader never sees an object and an ETag that do not belong
 * together. Requests of different keys still run side by side. S3RVER_IGNORE_CONDITIONS=1 leaves the conditions ignored,
 * to test a bucket that does not honour them.
 */
function objectsLikeS3(s3rver, honourConditions) {
  const queues = new Map();
  const perKey = async (ctx, next) => {
    const [, bucket, ...rest] = decodeURIComponent(ctx.path).split('/');
    const key = rest.join('/');
    if (!bucket || !key) return next();
    const id = `${bucket}/${key}`;
    const previous = queues.get(id) || Promise.resolve();
    let release;
    const mine = new Promise(resolve => (release = resolve));
    const tail = previous.then(() => mine);
    queues.set(id, tail);
    await previous;
    try {
      if (honourConditions) await checkConditions(ctx, bucket, key);
      await next();
    } finally {
      release();
      if (queues.get(id) === tail) queues.delete(id);
    }
  };
  // Before the router (the last middleware), after the XML and error plumbing.
  s3rver.middleware.splice(s3rver.middleware.length - 1, 0, perKey);
  atomicPuts(s3rver.store);
}

async function checkConditions(ctx, bucket, key) {
  const ifMatch = ctx.headers['if-match'];
  const ifNoneMatch = ctx.headers['if-none-match'];
  if (!(ctx.method === 'PUT' || ctx.method === 'DELETE') || (!ifMatch && !ifNoneMatch) || ctx.headers['x-amz-copy-source']) {
    return;
  }
  let etag = null;
  try {
    etag = (await ctx.store.getMetadata(bucket, key)).etag;
  } catch (err) {
    if (err.code !== 'ENOENT') throw err;
  }
  const unquoted = v => v.replace(/"/g, '');
  const failed =
    (ifNoneMatch === '*' && etag !== null) || (ifMatch && (etag === null || unquoted(ifMatch) !== unquoted(etag)));
  if (failed) {
    throw new S3Error('PreconditionFailed', 'At least one of the pre-conditions you specified did not hold', {
      Condition: ifMatch ? 'If-Match' : 'If-None-Match',
    });
  }
}

/** The store's putObject with the whole content in a temporary file renamed over the object, then its ETag file. */
function atomicPuts(store) {
  let sequence = 0;
  store.putObject = async object => {
    const objectPath = store.getResourcePath(object.bucket, object.key, 'object');
    const content = Buffer.isBuffer(object.content) ? object.content : await readAll(object.content);
    const md5 = crypto.createHash('md5').update(content).digest('hex');
    const temp = `${objectPath}.${process.pid}.${++sequence}.uploading`;
    // A delete of another key in the same directory may remove the directory just after it was made: make it again.
    for (let attempt = 1; ; attempt++) {
      await fs.promises.mkdir(path.dirname(objectPath), { recursive: true });
      try {
        await fs.promises.writeFile(temp, content);
        break;
      } catch (err) {
        if (err.code !== 'ENOENT' || attempt === 5) throw err;
      }
    }
    await fs.promises.rename(temp, objectPath);
    await store.putMetadata(object.bucket, object.key, object.metadata, md5);
    return { size: content.length, md5 };
  };
}

async function readAll(stream) {
  const chunks = [];
  for await (const chunk of stream) chunks.push(chunk);
  return Buffer.concat(chunks);
}

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

async function outage(line) {
  if (line === 'down') {
    const closed = server.close();
    server.httpServer.closeAllConnections();
    await closed;
    process.stdout.write(JSON.stringify({ down: true }) + '\n');
  } else if (line === 'up') {
    await server.run();
    process.stdout.write(JSON.stringify({ up: true }) + '\n');
  }
}

server.run().then(
  address => {
    server.serverOptions.port = address.port; // "up" listens on this port again
    process.stdout.write(JSON.stringify({ port: address.port }) + '\n');
    require('readline').createInterface({ input: process.stdin }).on('line', line => {
      outage(line.trim()).catch(err => console.error(`s3rver ${line}: ${err.stack || err}`));
    });
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
