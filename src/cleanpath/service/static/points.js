// A MapLibre custom layer that draws many points as WebGL circles straight from typed arrays.
//
// A GeoJSON source would hand 80 thousand feature objects to a worker, tile them and build buckets
// feature by feature: seconds on a two-core machine with software WebGL. Here the positions are
// projected to Web Mercator once, uploaded once, and drawn with one gl.drawArrays(POINTS) per frame,
// so a national network renders in the frame after its data arrives and pans at frame rate.

const VERTEX = `#version 300 es
uniform mat4 u_matrix;
uniform float u_size;
in vec2 a_pos;
in vec4 a_color;
out vec4 v_color;
void main() {
  gl_Position = u_matrix * vec4(a_pos, 0.0, 1.0);
  gl_PointSize = u_size;
  v_color = a_color;
}`;

// A disc with a soft edge and an optional white rim; output is premultiplied, as MapLibre blends.
const FRAGMENT = `#version 300 es
precision mediump float;
uniform float u_opacity;
uniform float u_rim;
in vec4 v_color;
out vec4 fragColor;
void main() {
  vec2 d = gl_PointCoord * 2.0 - 1.0;
  float r = length(d);
  if (r > 1.0) discard;
  float edge = 1.0 - smoothstep(0.82, 1.0, r);
  vec3 rgb = mix(v_color.rgb, vec3(1.0), step(1.0 - u_rim, r) * step(0.001, u_rim));
  float a = v_color.a * u_opacity * edge;
  fragColor = vec4(rgb * a, a);
}`;

/** Web Mercator x, y in [0, 1] (MapLibre's world coordinates) of WGS84 degrees. */
export function mercator(lon, lat) {
  const n = lon.length, xy = new Float32Array(2 * n);
  for (let i = 0; i < n; i++) {
    const la = Math.max(-85.051129, Math.min(85.051129, lat[i]));
    xy[2 * i] = (lon[i] + 180) / 360;
    xy[2 * i + 1] = 0.5 - Math.log(Math.tan(Math.PI / 4 + (la * Math.PI) / 360)) / (2 * Math.PI);
  }
  return xy;
}

/** "#rrggbb" as [r, g, b] bytes. */
export function rgb(hex) {
  const v = parseInt(hex.slice(1), 16);
  return [(v >> 16) & 255, (v >> 8) & 255, v & 255];
}

function compile(gl, type, source) {
  const s = gl.createShader(type);
  gl.shaderSource(s, source);
  gl.compileShader(s);
  if (!gl.getShaderParameter(s, gl.COMPILE_STATUS)) throw new Error(gl.getShaderInfoLog(s));
  return s;
}

export class PointLayer {
  /**
   * @param {string} id layer id
   * @param {object} opts radius: (zoom) => pixels; rim: white rim as a share of the radius (0: none)
   */
  constructor(id, { radius, rim = 0, opacity = 0.85 }) {
    this.id = id;
    this.type = "custom";
    this.renderingMode = "2d";
    this.radius = radius;
    this.rim = rim;
    this.opacity = opacity;
    this.count = 0;
    this.xy = new Float32Array(0);
    this.drawnFrames = 0;
    this._waiters = [];
  }

  onAdd(map, gl) {
    this.map = map;
    this.gl = gl;
    const p = gl.createProgram();
    gl.attachShader(p, compile(gl, gl.VERTEX_SHADER, VERTEX));
    gl.attachShader(p, compile(gl, gl.FRAGMENT_SHADER, FRAGMENT));
    gl.linkProgram(p);
    if (!gl.getProgramParameter(p, gl.LINK_STATUS)) throw new Error(gl.getProgramInfoLog(p));
    this.program = p;
    this.u = Object.fromEntries(["u_matrix", "u_size", "u_opacity", "u_rim"].map((n) => [n, gl.getUniformLocation(p, n)]));
    this.vao = gl.createVertexArray();
    this.posBuffer = gl.createBuffer();
    this.colorBuffer = gl.createBuffer();
    gl.bindVertexArray(this.vao);
    gl.bindBuffer(gl.ARRAY_BUFFER, this.posBuffer);
    const aPos = gl.getAttribLocation(p, "a_pos");
    gl.enableVertexAttribArray(aPos);
    gl.vertexAttribPointer(aPos, 2, gl.FLOAT, false, 0, 0);
    gl.bindBuffer(gl.ARRAY_BUFFER, this.colorBuffer);
    const aColor = gl.getAttribLocation(p, "a_color");
    gl.enableVertexAttribArray(aColor);
    gl.vertexAttribPointer(aColor, 4, gl.UNSIGNED_BYTE, true, 0, 0);
    gl.bindVertexArray(null);
    if (this._pending) this._upload();
  }

  onRemove(_map, gl) {
    gl.deleteBuffer(this.posBuffer);
    gl.deleteBuffer(this.colorBuffer);
    gl.deleteVertexArray(this.vao);
    gl.deleteProgram(this.program);
  }

  /**
   * Replace the points. Resolves once a frame showing them has been drawn.
   * @param {Float32Array} xy Mercator positions (see mercator())
   * @param {Uint8Array} rgba four bytes per point
   */
  setData(xy, rgba) {
    this.xy = xy;
    this.rgba = rgba;
    this.count = xy.length / 2;
    this._pending = true;
    const drawn = new Promise((resolve) => this._waiters.push(resolve));
    if (this.gl) this._upload();
    this.map?.triggerRepaint();
    return drawn;
  }

  setOpacity(opacity) {
    this.opacity = opacity;
    this.map?.triggerRepaint();
  }

  _upload() {
    const gl = this.gl;
    gl.bindBuffer(gl.ARRAY_BUFFER, this.posBuffer);
    gl.bufferData(gl.ARRAY_BUFFER, this.xy, gl.STATIC_DRAW);
    gl.bindBuffer(gl.ARRAY_BUFFER, this.colorBuffer);
    gl.bufferData(gl.ARRAY_BUFFER, this.rgba, gl.STATIC_DRAW);
    gl.bindBuffer(gl.ARRAY_BUFFER, null);
    this._pending = false;
  }

  render(gl, options) {
    if (this.count > 0) {
      // MapLibre >= 5 passes projection data whose main matrix takes Mercator [0, 1] coordinates
      // to clip space (its modelViewProjectionMatrix works in world pixels); 4.x passed the matrix itself.
      const matrix = options.defaultProjectionData ? options.defaultProjectionData.mainMatrix : options;
      gl.useProgram(this.program);
      gl.uniformMatrix4fv(this.u.u_matrix, false, new Float32Array(matrix));
      gl.uniform1f(this.u.u_size, 2 * this.radius(this.map.getZoom()) * (window.devicePixelRatio || 1));
      gl.uniform1f(this.u.u_opacity, this.opacity);
      gl.uniform1f(this.u.u_rim, this.rim);
      gl.enable(gl.BLEND);
      gl.blendFunc(gl.ONE, gl.ONE_MINUS_SRC_ALPHA);
      gl.bindVertexArray(this.vao);
      gl.drawArrays(gl.POINTS, 0, this.count);
      gl.bindVertexArray(null);
      this.drawnFrames++;
    }
    const waiters = this._waiters.splice(0);
    if (waiters.length) requestAnimationFrame(() => waiters.forEach((w) => w()));
  }

  /** How many points fall inside the map's current view (what a frame draws). */
  countInView() {
    if (!this.map || !this.drawnFrames) return 0;
    const b = this.map.getBounds();
    const [x0, y1] = [(b.getWest() + 180) / 360, mercatorY(b.getSouth())];
    const [x1, y0] = [(b.getEast() + 180) / 360, mercatorY(b.getNorth())];
    let n = 0;
    for (let i = 0; i < this.count; i++) {
      const x = this.xy[2 * i], y = this.xy[2 * i + 1];
      if (x >= x0 && x <= x1 && y >= y0 && y <= y1) n++;
    }
    return n;
  }

  /** Index of the point nearest to a screen position within `pixels`, or -1. */
  pick(point, pixels = 6) {
    if (!this.count) return -1;
    const ll = this.map.unproject(point);
    const px = (ll.lng + 180) / 360, py = mercatorY(ll.lat);
    const worldPixels = 512 * 2 ** this.map.getZoom();
    const limit = (pixels / worldPixels) ** 2;
    let best = -1, bestD = limit;
    for (let i = 0; i < this.count; i++) {
      const dx = this.xy[2 * i] - px, dy = this.xy[2 * i + 1] - py, d = dx * dx + dy * dy;
      if (d <= bestD) { bestD = d; best = i; }
    }
    return best;
  }
}

function mercatorY(lat) {
  const la = Math.max(-85.051129, Math.min(85.051129, lat));
  return 0.5 - Math.log(Math.tan(Math.PI / 4 + (la * Math.PI) / 360)) / (2 * Math.PI);
}
