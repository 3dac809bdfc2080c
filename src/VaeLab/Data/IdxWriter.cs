using System.Buffers.Binary;
using System.IO.Compression;

namespace VaeLab.Data;

/// <summary>Writes unsigned-byte IDX files (gzip-compressed when the name ends in .gz), atomically.</summary>
public static class IdxWriter
{
    /// <summary>
    /// Writes <paramref name="data"/> with the given dimensions to <paramref name="path"/>: first to a
    /// temporary file beside it, then renamed over it, so a crash never leaves a half-written file.
    /// </summary>
    /// <exception cref="ArgumentException">The data length is not the product of the dimensions, or a dimension is invalid.</exception>
    public static void Write(string path, ReadOnlySpan<int> dimensions, ReadOnlySpan<byte> data)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (dimensions.Length is < 1 or > 255)
            throw new ArgumentException($"An IDX array needs 1 to 255 dimensions, got {dimensions.Length}.", nameof(dimensions));
        long length = 1;
        foreach (int size in dimensions)
        {
            if (size < 0) throw new ArgumentException($"Dimension sizes must not be negative, got {size}.", nameof(dimensions));
            length *= size;
        }
        if (length != data.Length)
            throw new ArgumentException(
                $"The dimensions {IdxReader.Shape(dimensions.ToArray())} need {length} bytes, the data has {data.Length}.", nameof(data));

        string temporary = path + ".tmp-" + Environment.ProcessId;
        try
        {
            using (var file = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None))
            using (Stream body = path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase)
                       ? new GZipStream(file, CompressionLevel.Optimal)
                       : file)
            {
                Span<byte> header = stackalloc byte[4 + 4 * dimensions.Length];
                header[0] = 0;
                header[1] = 0;
                header[2] = IdxReader.UnsignedByteType;
                header[3] = (byte)dimensions.Length;
                for (int d = 0; d < dimensions.Length; d++)
                    BinaryPrimitives.WriteInt32BigEndian(header.Slice(4 + 4 * d, 4), dimensions[d]);
                body.Write(header);
                body.Write(data);
            }
            File.Move(temporary, path, overwrite: true);
        }
        finally
        {
            if (File.Exists(temporary)) File.Delete(temporary);
        }
    }
}
