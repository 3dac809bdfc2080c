using System.Buffers.Binary;
using System.IO.Compression;
using VaeLab.Runtime;
using static TorchSharp.torch;

namespace VaeLab.Data;

/// <summary>
/// Reads IDX files, the format of MNIST, Fashion-MNIST, KMNIST and others: a 4-byte magic number
/// (two zero bytes, the element type, the number of dimensions), one big-endian 32-bit size per
/// dimension, then the elements. Files may be gzip-compressed (detected from their first bytes).
/// Only unsigned-byte elements (type 0x08), the type of every image and label file of these datasets, are read.
/// </summary>
public static class IdxReader
{
    /// <summary>The element-type byte of unsigned bytes, the only type these datasets use.</summary>
    public const byte UnsignedByteType = 0x08;

    const int MaxDimensions = 8;

    /// <summary>Reads an IDX file (raw or gzip-compressed).</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="IdxFormatException">The content is not a valid unsigned-byte IDX array.</exception>
    public static IdxArray Read(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!File.Exists(path)) throw new FileNotFoundException($"IDX file '{path}' does not exist.", path);
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        return Read(file, path);
    }

    /// <summary>Reads an IDX array from a stream; <paramref name="source"/> names it in errors (a name ending in .gz must be gzip).</summary>
    /// <exception cref="IdxFormatException">The content is not a valid unsigned-byte IDX array.</exception>
    public static IdxArray Read(Stream stream, string source)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(source);
        if (!stream.CanSeek)
        {
            var copy = new MemoryStream();
            stream.CopyTo(copy);
            copy.Position = 0;
            stream = copy;
        }
        long start = stream.Position;
        Span<byte> sniff = stackalloc byte[2];
        int sniffed = stream.ReadAtLeast(sniff, 2, throwOnEndOfStream: false);
        stream.Position = start;
        bool gzip = sniffed == 2 && sniff[0] == 0x1f && sniff[1] == 0x8b;
        if (!gzip && source.EndsWith(".gz", StringComparison.OrdinalIgnoreCase))
            throw new IdxFormatException(source,
                $"the name ends in .gz but the content is not gzip-compressed (it starts with {Hex(sniff[..sniffed])}; gzip starts with 0x1F 0x8B).");
        // What the file can hold, known before any allocation: the bytes left (raw), or the gzip trailer's uncompressed size (the
        // size mod 2³², exact for the single-member files gzip writes; a multi-member file may disagree, and is then read in chunks).
        long available = gzip ? GzipStatedSize(stream, start) : stream.Length - start;
        Stream body = gzip ? new GZipStream(stream, CompressionMode.Decompress, leaveOpen: true) : stream;
        try
        {
            return ReadBody(body, source, available, exact: !gzip);
        }
        catch (InvalidDataException e)
        {
            throw new IdxFormatException(source, $"the gzip data is corrupt ({e.Message}).", e);
        }
        finally
        {
            if (gzip) body.Dispose();
        }
    }

    static long GzipStatedSize(Stream stream, long start)
    {
        if (stream.Length - start < 18) return -1;
        Span<byte> trailer = stackalloc byte[4];
        stream.Position = stream.Length - 4;
        stream.ReadExactly(trailer);
        stream.Position = start;
        long stated = BinaryPrimitives.ReadUInt32LittleEndian(trailer);
        // Deflate expands at most 1032-fold: a trailer claiming more than that is not believed (the file is then read in chunks).
        return stated <= 1032 * (stream.Length - start) ? stated : -1;
    }

    static IdxArray ReadBody(Stream body, string source, long available, bool exact)
    {
        Span<byte> magic = stackalloc byte[4];
        int got = body.ReadAtLeast(magic, 4, throwOnEndOfStream: false);
        if (got < 4)
            throw new IdxFormatException(source, $"the file holds {got} byte(s); an IDX header needs at least 4 (the magic number).");
        if (magic[0] != 0 || magic[1] != 0)
            throw new IdxFormatException(source,
                $"bad magic number {Hex(magic)}: IDX files start with two zero bytes, then the element type and the number of dimensions.");
        if (magic[2] != UnsignedByteType)
            throw new IdxFormatException(source,
                $"element type 0x{magic[2]:X2} ({TypeName(magic[2])}) is not supported: expected 0x08 (unsigned byte), the type of MNIST-format image and label files.");
        int rank = magic[3];
        if (rank < 1 || rank > MaxDimensions)
            throw new IdxFormatException(source, $"the header declares {rank} dimensions; expected 1 to {MaxDimensions}.");

        Span<byte> sizes = stackalloc byte[4 * rank];
        got = body.ReadAtLeast(sizes, sizes.Length, throwOnEndOfStream: false);
        if (got < sizes.Length)
            throw new IdxFormatException(source, $"the header is truncated: {rank} dimension sizes need {sizes.Length} bytes after the magic number, found {got}.");
        var dimensions = new int[rank];
        long length = 1;
        for (int d = 0; d < rank; d++)
        {
            int size = BinaryPrimitives.ReadInt32BigEndian(sizes.Slice(4 * d, 4));
            if (size < 0)
                throw new IdxFormatException(source, $"dimension {d} has size {(uint)size}, more than an IDX reader can hold (at most {int.MaxValue}).");
            dimensions[d] = size;
            length *= size;
            if (length > Array.MaxLength)
                throw new IdxFormatException(source, $"the dimensions {Shape(dimensions[..(d + 1)])} describe more than {Array.MaxLength} elements.");
        }

        long header = 4 + 4L * rank;
        if (exact && available - header < length)
            throw new IdxFormatException(source,
                $"the data is truncated: the header's dimensions {Shape(dimensions)} need {length:N0} bytes, the file holds {Math.Max(0, available - header):N0}.");
        if (!exact && available != header + length)
            return ReadInChunks(body, source, dimensions, length);

        // Decompress straight into the tensor's (pre-populated) memory: no managed copy of the pixels.
        Tensor data = MemoryPages.Empty(Array.ConvertAll(dimensions, d => (long)d), ScalarType.Byte);
        try
        {
            got = body.ReadAtLeast(data.bytes, (int)length, throwOnEndOfStream: false);
            if (got < length)
                throw new IdxFormatException(source,
                    $"the data is truncated: the header's dimensions {Shape(dimensions)} need {length:N0} bytes, the file holds {got:N0}.");
            if (body.ReadByte() != -1)
                throw new IdxFormatException(source,
                    $"the file is longer than its header says: dimensions {Shape(dimensions)} need exactly {length:N0} data bytes, but more follow.");
            return new IdxArray(source, dimensions, data);
        }
        catch
        {
            data.Dispose();
            throw;
        }
    }

    // When the file's size does not vouch for the header, memory grows only with the data actually there: a header claiming
    // 2,000,000,000 images in a short file costs what the file holds, not 2 GB.
    static IdxArray ReadInChunks(Stream body, string source, int[] dimensions, long length)
    {
        const int chunk = 1 << 20;
        var parts = new List<byte[]>();
        long got = 0;
        while (got < length)
        {
            var part = new byte[(int)Math.Min(chunk, length - got)];
            int read = body.ReadAtLeast(part, part.Length, throwOnEndOfStream: false);
            got += read;
            if (read < part.Length)
                throw new IdxFormatException(source,
                    $"the data is truncated: the header's dimensions {Shape(dimensions)} need {length:N0} bytes, the file holds {got:N0}.");
            parts.Add(part);
        }
        if (body.ReadByte() != -1)
            throw new IdxFormatException(source,
                $"the file is longer than its header says: dimensions {Shape(dimensions)} need exactly {length:N0} data bytes, but more follow.");
        Tensor data = MemoryPages.Empty(Array.ConvertAll(dimensions, d => (long)d), ScalarType.Byte);
        Span<byte> target = data.bytes;
        long offset = 0;
        foreach (byte[] part in parts)
        {
            part.CopyTo(target.Slice((int)offset));
            offset += part.Length;
        }
        return new IdxArray(source, dimensions, data);
    }

    internal static string Shape(IEnumerable<int> dimensions) => string.Join('×', dimensions);

    static string Hex(ReadOnlySpan<byte> bytes) =>
        bytes.Length == 0 ? "nothing" : string.Join(' ', bytes.ToArray().Select(b => $"0x{b:X2}"));

    static string TypeName(byte type) => type switch
    {
        0x09 => "signed byte",
        0x0B => "16-bit integer",
        0x0C => "32-bit integer",
        0x0D => "32-bit float",
        0x0E => "64-bit float",
        _ => "not an IDX type",
    };
}
