package telegramtest

import (
	"bytes"
	"cmp"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"slices"
	"strings"

	// Registered for image.DecodeConfig, to read the size of photos.
	_ "image/gif"
	_ "image/jpeg"
)

// maxDownload is the largest file getFile hands out, as on Telegram.
const maxDownload = 20 << 20

// fileStore holds the files the server knows, by file_id and by
// file_path. It is guarded by Server.mu.
type fileStore struct {
	byID   map[string]storedFile
	byPath map[string]string
	n      int
}

// storedFile is one file and its names.
type storedFile struct {
	id       string
	uniqueID string
	path     string
	data     []byte
}

// init readies an empty store.
func (fs *fileStore) init() {
	fs.byID = map[string]storedFile{}
	fs.byPath = map[string]string{}
}

// add stores data under new names, in the folder Telegram uses for its
// kind, and returns it.
func (fs *fileStore) add(data []byte, folder string) storedFile {
	fs.n++

	f := storedFile{
		id:       fmt.Sprintf("AgACAgIAAxkBAAI%08dTgX", fs.n),
		uniqueID: fmt.Sprintf("AQAD%08d", fs.n),
		path:     fmt.Sprintf("%s/file_%d%s", folder, fs.n, extension(data)),
		data:     data,
	}
	fs.byID[f.id] = f
	fs.byPath[f.path] = f.id

	return f
}

// addPhoto stores each size of a photo and returns its PhotoSize list,
// smallest first.
func (fs *fileStore) addPhoto(sizes [][]byte) []PhotoSize {
	out := make([]PhotoSize, 0, len(sizes))
	for i, data := range sizes {
		f := fs.add(data, "photos")
		w, h := imageSize(data, i)
		out = append(out, PhotoSize{
			FileID: f.id, FileUniqueID: f.uniqueID, Width: w, Height: h, FileSize: len(data),
		})
	}

	slices.SortStableFunc(out, func(a, b PhotoSize) int {
		return cmp.Or(cmp.Compare(a.Width*a.Height, b.Width*b.Height),
			cmp.Compare(a.FileSize, b.FileSize))
	})

	return out
}

// photoSize returns the PhotoSize of a stored file.
func photoSize(f storedFile) PhotoSize {
	w, h := imageSize(f.data, 2)
	return PhotoSize{FileID: f.id, FileUniqueID: f.uniqueID, Width: w, Height: h,
		FileSize: len(f.data)}
}

// imageSize returns an image's width and height, or, when it cannot be
// read, the size Telegram gives the i-th size of a photo.
func imageSize(data []byte, i int) (int, int) {
	if cfg, _, err := image.DecodeConfig(bytes.NewReader(data)); err == nil {
		return cfg.Width, cfg.Height
	}

	widths := []int{90, 320, 800, 1280, 2560}
	w := widths[min(i, len(widths)-1)]

	return w, w * 3 / 4
}

// extension returns the file name extension for data's content type.
func extension(data []byte) string {
	switch http.DetectContentType(data) {
	case "image/png":
		return ".png"
	case "image/gif":
		return ".gif"
	case "image/webp":
		return ".webp"
	default:
		return ".jpg"
	}
}

// PNG returns a w by h PNG of one colour: a real image, as Photo and a
// sendPhoto upload need.
func PNG(w, h int) []byte {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.RGBA{R: 40, G: 120, B: 200, A: 255})
		}
	}

	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		panic(fmt.Sprintf("telegramtest: encode sample PNG: %v", err))
	}

	return buf.Bytes()
}

// AddFile stores data as a file the bot can fetch with getFile and
// returns its file_id.
func (s *Server) AddFile(data []byte) string {
	s.mu.Lock()
	defer s.mu.Unlock()

	return s.files.add(data, "documents").id
}

// getFile answers a File whose file_path downloads the bytes.
func (s *Server) getFile(c *call) (result, *apiError) {
	id := c.params.Get("file_id")
	if id == "" {
		return result{}, badRequest("file_id is empty")
	}

	s.mu.Lock()
	f, ok := s.files.byID[id]
	s.mu.Unlock()

	switch {
	case !ok:
		return result{}, badRequest("invalid file_id")
	case len(f.data) > maxDownload:
		return result{}, badRequest("file is too big")
	}

	return result{value: File{
		FileID: f.id, FileUniqueID: f.uniqueID, FileSize: len(f.data), FilePath: f.path,
	}}, nil
}

// handleFile serves GET /file/bot{token}/{file_path}.
func (s *Server) handleFile(w http.ResponseWriter, r *http.Request) {
	token, path, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/file/bot"), "/")
	if token != s.token {
		writeError(w, &apiError{code: 401, description: "Unauthorized"})
		return
	}

	s.mu.Lock()
	f, ok := s.files.byID[s.files.byPath[path]]
	s.mu.Unlock()

	if !ok {
		writeError(w, &apiError{code: 404, description: "Not Found"})
		return
	}

	w.Header().Set("Content-Type", http.DetectContentType(f.data))
	w.Header().Set("Content-Length", fmt.Sprint(len(f.data)))
	_, _ = w.Write(f.data)
}
