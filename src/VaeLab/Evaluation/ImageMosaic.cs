namespace VaeLab.Evaluation;

/// <summary>
/// Images tiled into one grid of grey levels in [0, 1] (row-major, top row first), with a one-pixel gap of NaN
/// (drawn empty) between tiles, ready to draw as a single heatmap.
/// </summary>
/// <param name="Pixels">The mosaic, [height][width].</param>
/// <param name="Rows">Tiles per column.</param>
/// <param name="Columns">Tiles per row.</param>
/// <param name="Caption">What the tiles show.</param>
public sealed record ImageMosaic(double[][] Pixels, int Rows, int Columns, string Caption)
{
    /// <summary>Tiles <paramref name="images"/> ([n][h·w], row-major, n = rows·columns) into a mosaic.</summary>
    /// <exception cref="ArgumentException">The number of images is not rows × columns, or an image is not h·w long.</exception>
    public static ImageMosaic Tile(IReadOnlyList<float[]> images, int height, int width, int rows, int columns, string caption)
    {
        if (images.Count != rows * columns) throw new ArgumentException($"A {rows}×{columns} mosaic needs {rows * columns} images, got {images.Count}.", nameof(images));
        if (images.Any(i => i.Length != height * width)) throw new ArgumentException($"Every image must hold {height}×{width} pixels.", nameof(images));
        int totalHeight = rows * (height + 1) - 1, totalWidth = columns * (width + 1) - 1;
        var pixels = new double[totalHeight][];
        for (int y = 0; y < totalHeight; y++) pixels[y] = Enumerable.Repeat(double.NaN, totalWidth).ToArray(); // gaps: drawn empty
        for (int tile = 0; tile < images.Count; tile++)
        {
            int top = tile / columns * (height + 1), left = tile % columns * (width + 1);
            for (int y = 0; y < height; y++)
                for (int x = 0; x < width; x++)
                    pixels[top + y][left + x] = Math.Clamp(images[tile][y * width + x], 0f, 1f);
        }
        return new ImageMosaic(pixels, rows, columns, caption);
    }
}
