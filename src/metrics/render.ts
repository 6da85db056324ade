/**
 * Vega-Lite specs drawn without a browser: compiled to Vega, run in a headless View (renderer
 * `none`) to an SVG string, and rasterised to PNG with resvg. The libraries are loaded on
 * first use, so commands that draw nothing never pay for them.
 */
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

/** PNG bytes of an SVG at `scale` times its size, on white. */
export async function svgToPng(svg: string, scale = 2): Promise<Buffer> {
  const { Resvg } = await import('@resvg/resvg-js');
  const image = new Resvg(svg, {
    fitTo: { mode: 'zoom', value: scale },
    background: 'white',
    font: {
      loadSystemFonts: true,
      defaultFontFamily: 'DejaVu Sans',
      sansSerifFamily: 'DejaVu Sans',
    },
  });
  return image.render().asPng();
}
