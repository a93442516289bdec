/**
 * The video function: the upload processor's handler, fed by the video queue one message at a
 * time. Its configuration names no video queue, so it processes the videos it is given instead of
 * forwarding them: it claims the row, hands the video to the transform function with presigned
 * URLs (ffprobe and ffmpeg run there, not here), checks what comes back and keeps it; a photo
 * never reaches it.
 */
export { handler, type ProcessUploadHandler } from '../process-upload/handler';
