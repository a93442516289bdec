// face-api's Node build requires '@tensorflow/tfjs'; it needs only the ops of TensorFlow.js core.
// The full package would add layers, data and WebGL (141 MB installed) that detection never runs.
const tf = require('@tensorflow/tfjs-core');
// The CPU backend registers itself: the fallback behind WASM.
require('@tensorflow/tfjs-backend-cpu');

// The union package installs the chained ops (`tensor.as3D()`, `tensor.toFloat()`…) through the ES
// build of core; core's CommonJS build leaves them out, and face-api calls them. Each is the op of
// the same name with the tensor as its first argument, except the few below.
const special = {
  as1D() {
    return tf.reshape(this, [this.size]);
  },
  as2D(a, b) {
    return tf.reshape(this, [a, b]);
  },
  as3D(a, b, c) {
    return tf.reshape(this, [a, b, c]);
  },
  as4D(a, b, c, d) {
    return tf.reshape(this, [a, b, c, d]);
  },
  as5D(a, b, c, d, e) {
    return tf.reshape(this, [a, b, c, d, e]);
  },
  asScalar() {
    return tf.reshape(this, []);
  },
  asType(dtype) {
    return tf.cast(this, dtype);
  },
  flatten() {
    return tf.reshape(this, [this.size]);
  },
  reshapeAs(x) {
    return tf.reshape(this, x.shape);
  },
  toBool() {
    return tf.cast(this, 'bool');
  },
  toFloat() {
    return tf.cast(this, 'float32');
  },
  toInt() {
    return tf.cast(this, 'int32');
  },
  concat(x, axis) {
    return tf.concat([this, ...(x instanceof tf.Tensor ? [x] : x)], axis);
  },
  stack(x, axis) {
    return tf.stack([this, ...(x instanceof tf.Tensor ? [x] : x)], axis);
  },
  where(condition, x) {
    return tf.where(condition, this, x);
  },
};
const sameName = `abs acos acosh add all any argMax argMin asin asinh atan atan2 atanh batchToSpaceND
  batchNorm broadcastTo cast ceil clipByValue conv1d conv2d cos cosh cumprod cumsum depthToSpace div
  divNoNan dot elu equal erf euclideanNorm exp expandDims expm1 fft floor floorDiv gather greater
  greaterEqual ifft irfft isFinite isInf isNaN leakyRelu less lessEqual log log1p logSigmoid logSoftmax
  logSumExp logicalAnd logicalNot logicalOr logicalXor matMul max maximum mean min minimum mirrorPad mod
  mul neg norm notEqual oneHot onesLike pad pool pow prelu prod reciprocal relu relu6 reshape reverse
  rfft round rsqrt selu sigmoid sign sin sinh slice softmax softplus spaceToBatchND split sqrt square
  squaredDifference squeeze step stridedSlice sub sum tan tanh tile topk transpose unique unstack
  zerosLike`.split(/\s+/);
const prototype = tf.Tensor.prototype;
for (const name of sameName) {
  if (!(name in prototype)) {
    prototype[name] = function (...args) {
      return tf[name](this, ...args);
    };
  }
}
for (const [name, method] of Object.entries(special)) {
  if (!(name in prototype)) prototype[name] = method;
}

module.exports = tf;
