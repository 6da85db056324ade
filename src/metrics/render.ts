/**
 * Vega-Lite specs drawn without a browser: compiled to Vega, run in a headless View (renderer
 * `none`) to an SVG string, and rasterised to PNG with resvg. The libraries are loaded on
 * first use, so commands that draw nothing never pay for them.
 */
import fs from 'node:fs';
import path from 'node:path';
import { CairnError } from '../core/errors.js';
import type { Spec } from './templates.js';

/** The SVG of a Vega-Lite spec; `id` names the plot in errors. */
export async function specToSvg(id: string, spec: Spec): Promise<string> {
  const [vega, vl] = await Promise.all([import('vega'), import('vega-lite')]);
  let view: InstanceType<typeof vega.View> | undefined;
  try {
    const compiled = vl.compile(spec as unknown as Parameters<typeof vl.compile>[0]).spec;
    view = new vega.View(vega.parse(compiled), { renderer: 'none' });
    return await view.toSVG();
  } catch (error) {
    throw new CairnError(
      'plot-render-failed',
      `plot '${id}' could not be drawn: ${(error as Error).message}`,
      {
        hint: 'Check its template (a Vega-Lite spec) and the fields its x and y name.',
        cause: error,
      },
    );
  } finally {
    view?.finalize();
  }
}

/**
 * Vega writes `sans-serif` text. Loading just DejaVu Sans where it is installed (Debian, Ubuntu)
 * saves resvg scanning every system font (~100 ms a plot); elsewhere the system fonts are used.
 */
const DEJAVU = ['DejaVuSans.ttf', 'DejaVuSans-Bold.ttf'].map((f) =>
  path.join('/usr/share/fonts/truetype/dejavu', f),
);

function fontOptions() {
  const files = DEJAVU.filter((f) => fs.existsSync(f));
  return files.length === DEJAVU.length
    ? { loadSystemFonts: false, fontFiles: files, defaultFontFamily: 'DejaVu Sans' }
    : { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans', sansSerifFamily: 'DejaVu Sans' };
}

/** PNG bytes of an SVG at `scale` times its size, on white. */
export async function svgToPng(svg: string, scale = 2): Promise<Buffer> {
  const { Resvg } = await import('@resvg/resvg-js');
  const image = new Resvg(svg, {
    fitTo: { mode: 'zoom', value: scale },
    background: 'white',
    font: fontOptions(),
  });
  return image.render().asPng();
}
